/*
 * ctl.c: the control-socket server. Accepts clients on a Unix socket, learns
 * who each is from the kernel (peer.c), reads JSON-line requests (proto.c),
 * answers them in order through the command tables, and enforces the caps:
 * connections in total and per uid, an idle timeout, one line at most
 * PROTO_MAX_LINE bytes. A request that takes time (backup, sign.prepare) runs
 * on libuv's worker pool; the connection's later requests wait for it, so
 * replies keep their order. The commands themselves live in ctl_admin.c,
 * ctl_intake.c, ctl_doc.c, ctl_sign.c and ctl_round.c (ctl_priv.h).
 */
#include "ctl_priv.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "clock.h"
#include "fsutil.h"
#include "log.h"

#define WRITE_QUEUE_CAP (1024 * 1024)

static void conn_close(struct conn *c);
static void conn_process(struct conn *c);
static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void conn_maybe_done(struct ctl *ctl);

/* ---- replies ---- */

struct write_req {
	uv_write_t req;
	char *line;   /* owned */
};

static void on_write(uv_write_t *req, int status)
{
	struct write_req *w = (struct write_req *)req;
	struct conn *c = req->data;

	free(w->line);
	free(w);
	if (status < 0) {
		if (status != UV_ECANCELED)
			log_debug("client %s: write failed: %s", c->peer.login, uv_strerror(status));
		conn_close(c);
		return;
	}
	if (c->close_after_write && uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) == 0) {
		conn_close(c);
		return;
	}
	/* Back-pressure: reading resumes once the client has taken its replies. */
	if (!c->closing && !c->busy && !c->reading &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < WRITE_QUEUE_CAP)
		conn_process(c);
}

static void conn_send(struct conn *c, char *line, size_t len)
{
	struct write_req *w;
	uv_buf_t buf;

	if (line == NULL) {
		log_err("out of memory encoding a reply to %s", c->peer.login);
		conn_close(c);
		return;
	}
	if (uv_is_closing((uv_handle_t *)&c->pipe)) {
		free(line);
		return;
	}
	w = malloc(sizeof(*w));
	if (w == NULL) {
		free(line);
		conn_close(c);
		return;
	}
	w->line = line;
	w->req.data = c;
	buf = uv_buf_init(line, (unsigned)len);
	if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, on_write) != 0) {
		free(line);
		free(w);
		conn_close(c);
	}
}

static void send_error(struct conn *c, enum proto_error code, const char *msg)
{
	size_t len = 0;
	char *line = proto_encode_error(code, msg, &len);

	conn_send(c, line, len);
}

static void send_ok(struct conn *c, json_t *result)
{
	size_t len = 0;
	char *line = proto_encode_ok(result, &len);

	if (line != NULL && len > PROTO_MAX_LINE + 1) {
		free(line);
		send_error(c, E_INTERNAL, "câu trả lời vượt quá 64 KiB; hãy giới hạn bằng --limit");
		return;
	}
	conn_send(c, line, len);
}

/* ---- requests that run on the worker pool ---- */

int ctl_async_start(struct conn *c, uv_work_t *work, uv_work_cb run, uv_after_work_cb after)
{
	if (uv_queue_work(c->ctl->loop, work, run, after) != 0)
		return -1;
	c->busy = 1;
	return 0;
}

void ctl_async_finish(struct conn *c, int code, const char *msg, json_t *result)
{
	struct ctl *ctl = c->ctl;

	c->busy = 0;
	if (code != 0)
		send_error(c, code, msg);
	else
		send_ok(c, result);
	if (c->closing) {
		conn_close(c);
		conn_maybe_done(ctl);
	} else {
		conn_process(c);
	}
}

/* ---- dispatch ---- */

/* The command tables: every request goes through here, and only through here. */
static const struct command *const tables[] = {
	ctl_admin_commands,
	ctl_intake_commands,
	ctl_doc_commands,
	ctl_sign_commands,
	ctl_round_commands,
	ctl_exchange_commands,
};

const struct command *ctl_command_find(const char *name)
{
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct command *cmd = tables[t]; cmd->name != NULL; cmd++)
			if (strcmp(cmd->name, name) == 0)
				return cmd;
	return NULL;
}

static void handle_line(struct conn *c, const char *line, size_t len)
{
	struct proto_request req;
	const struct command *cmd = NULL;
	json_t *result = NULL;
	char msg[8192] = "";
	int rc;

	rc = proto_parse_request(line, len, &req, msg, sizeof(msg));
	if (rc != 0) {
		log_debug("client %s: %s", c->peer.login, msg);
		send_error(c, rc, msg);
		return;
	}
	cmd = ctl_command_find(req.cmd);
	if (c->peer.roles == 0) {
		snprintf(msg, sizeof(msg), "người dùng %s (uid %ld) không thuộc nhóm vai trò nào của "
		    "vanthu", c->peer.login, (long)c->peer.uid);
		send_error(c, E_DENIED, msg);
		goto out;
	}
	if (cmd == NULL) {
		char name[80];
		snprintf(name, sizeof(name), "%.64s", req.cmd);
		snprintf(msg, sizeof(msg), "không có lệnh \"%s\"", name);
		send_error(c, E_UNKNOWN_CMD, msg);
		goto out;
	}
	if ((cmd->roles & c->peer.roles) == 0) {
		/* name the roles that may: the person knows whom to ask */
		char may[512];
		config_roles_text(cmd->roles, 1, may, sizeof(may));
		snprintf(msg, sizeof(msg), "lệnh \"%s\" chỉ dành cho %s; %s không có vai trò đó",
		    cmd->name, may, c->peer.login);
		send_error(c, E_DENIED, msg);
		goto out;
	}
	rc = cmd->fn(c, req.args, &result, msg, sizeof(msg));
	if (rc == CMD_ASYNC)
		goto out;
	if (rc != 0)
		send_error(c, rc, msg);
	else if (result == NULL)
		send_error(c, E_INTERNAL, "hết bộ nhớ");
	else
		send_ok(c, result);
out:
	proto_request_free(&req);
}

/* ---- connections ---- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h;
	if (suggested > 65536)
		suggested = 65536;
	buf->base = malloc(suggested);
	buf->len = buf->base ? suggested : 0;
}

/* Handles every complete line, in order, until one goes async. */
static void conn_process(struct conn *c)
{
	const char *line;
	size_t len, consumed;
	int rc;

	while (!c->busy && !c->closing && !c->close_after_write) {
		rc = proto_buf_next(&c->in, &line, &len, &consumed);
		if (rc == 0)
			break;
		if (rc < 0) {
			log_warn("client %s (uid %ld): line over %d bytes; closing", c->peer.login,
			    (long)c->peer.uid, PROTO_MAX_LINE);
			c->close_after_write = 1;
			send_error(c, E_PROTO, "dòng yêu cầu dài quá 65536 byte");
			proto_buf_consume(&c->in, c->in.len);
			break;
		}
		if (len > 0)
			handle_line(c, line, len);
		proto_buf_consume(&c->in, consumed);
		if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) >= WRITE_QUEUE_CAP)
			break;
	}
	/* Read more only when idle and the client takes its replies. */
	int want = !c->busy && !c->closing && !c->close_after_write &&
	    uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) < WRITE_QUEUE_CAP;
	if (want && !c->reading) {
		if (uv_read_start((uv_stream_t *)&c->pipe, on_alloc, on_read) == 0)
			c->reading = 1;
	} else if (!want && c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	struct conn *c = stream->data;

	if (nread > 0) {
		uv_timer_again(&c->idle);
		if (proto_buf_append(&c->in, buf->base, (size_t)nread) != 0) {
			log_err("out of memory reading from %s", c->peer.login);
			free(buf->base);
			conn_close(c);
			return;
		}
		free(buf->base);
		conn_process(c);
		return;
	}
	free(buf->base);
	if (nread < 0) {
		if (nread != UV_EOF)
			log_debug("client %s: read: %s", c->peer.login, uv_strerror((int)nread));
		conn_close(c);
	}
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct ctl *ctl = c->ctl;

	if (--c->handles_open > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		ctl->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	ctl->nconns--;
	proto_buf_free(&c->in);
	free(c);
	conn_maybe_done(ctl);
}

static void close_handles(struct conn *c)
{
	if (!uv_is_closing((uv_handle_t *)&c->pipe))
		uv_close((uv_handle_t *)&c->pipe, on_conn_handle_closed);
	if (!uv_is_closing((uv_handle_t *)&c->idle))
		uv_close((uv_handle_t *)&c->idle, on_conn_handle_closed);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	struct conn *c = req->data;

	(void)status;
	free(req);
	close_handles(c);
}

/* Closes once nothing is in flight; replies already written are flushed first. */
static void conn_close(struct conn *c)
{
	uv_shutdown_t *req;

	if (c->busy) {
		c->closing = 1;  /* ctl_async_finish closes it */
		if (c->reading) {
			uv_read_stop((uv_stream_t *)&c->pipe);
			c->reading = 0;
		}
		return;
	}
	if (c->close_started)
		return;
	c->close_started = 1;
	c->closing = 1;
	uv_timer_stop(&c->idle);
	if (c->reading) {
		uv_read_stop((uv_stream_t *)&c->pipe);
		c->reading = 0;
	}
	req = malloc(sizeof(*req));
	if (req != NULL) {
		req->data = c;
		if (uv_shutdown(req, (uv_stream_t *)&c->pipe, on_shutdown) == 0)
			return;
		free(req);
	}
	close_handles(c);
}

static void on_idle(uv_timer_t *t)
{
	struct conn *c = t->data;

	if (c->busy)
		return;
	log_debug("client %s: idle for %u s; closing", c->peer.login, c->ctl->cfg->idle_timeout);
	conn_close(c);
}

static unsigned conns_of_uid(const struct ctl *ctl, uid_t uid)
{
	unsigned n = 0;

	for (const struct conn *c = ctl->conns; c != NULL; c = c->next)
		if (c->peer.uid == uid && !c->closing)
			n++;
	return n;
}

static void on_connection(uv_stream_t *server, int status)
{
	struct ctl *ctl = server->data;
	struct conn *c;
	uv_os_fd_t fd;
	unsigned total = ctl->nconns;

	if (status < 0) {
		log_err("accept: %s", uv_strerror(status));
		return;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL) {
		log_err("out of memory accepting a client");
		return;
	}
	c->ctl = ctl;
	proto_buf_init(&c->in);
	if (uv_pipe_init(ctl->loop, &c->pipe, 0) != 0) {
		free(c);
		return;
	}
	c->pipe.data = c;
	c->handles_open = 1;
	c->next = ctl->conns;
	if (ctl->conns)
		ctl->conns->prev = c;
	ctl->conns = c;
	ctl->nconns++;
	uv_timer_init(ctl->loop, &c->idle);
	c->idle.data = c;
	c->handles_open = 2;
	if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0 ||
	    uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 || peer_from_socket(fd, &c->peer) != 0) {
		log_err("accept: cannot read the client's identity");
		conn_close(c);
		return;
	}
	peer_resolve_roles(ctl->cfg, &c->peer);
	uv_timer_start(&c->idle, on_idle, (uint64_t)ctl->cfg->idle_timeout * 1000,
	    (uint64_t)ctl->cfg->idle_timeout * 1000);
	if (total >= ctl->cfg->max_clients) {
		log_warn("client %s (uid %ld) refused: %u connections open (max_clients)",
		    c->peer.login, (long)c->peer.uid, total);
		c->close_after_write = 1;
		send_error(c, E_BUSY, "máy chủ đang có quá nhiều kết nối; hãy thử lại sau");
		return;
	}
	if (conns_of_uid(ctl, c->peer.uid) > ctl->cfg->max_clients_per_uid) {
		log_warn("client %s (uid %ld) refused: over max_clients_per_uid (%u)",
		    c->peer.login, (long)c->peer.uid, ctl->cfg->max_clients_per_uid);
		c->close_after_write = 1;
		send_error(c, E_BUSY, "người dùng này đã mở quá nhiều kết nối; hãy thử lại sau");
		return;
	}
	log_debug("client %s (uid %ld, pid %ld) connected", c->peer.login, (long)c->peer.uid,
	    (long)c->peer.pid);
	conn_process(c);
}

/* ---- the socket ---- */

/* A socket file left by a crash: replaced only when nobody answers on it. */
static int clear_stale_socket(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : (snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1);
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s exists and is not a socket; refusing to replace it", path);
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sun, sizeof(sun));
	close(fd);
	if (rc == 0) {
		snprintf(err, errlen, "another daemon is answering on %s", path);
		return -1;
	}
	if (unlink(path) != 0) {
		snprintf(err, errlen, "cannot remove the stale socket %s: %s", path, strerror(errno));
		return -1;
	}
	log_info("removed a stale socket %s left by an earlier run", path);
	return 0;
}

static int prepare_dir(const struct config *cfg, const char *sockpath, gid_t *gid,
    char *err, size_t errlen)
{
	char dir[PATH_MAX], failed[PATH_MAX];
	const char *slash = strrchr(sockpath, '/');
	struct stat st;

	*gid = (gid_t)-1;
	if (cfg->socket_group != NULL) {
		struct group *gr = getgrnam(cfg->socket_group);
		if (gr == NULL) {
			snprintf(err, errlen, "socket_group: no such group '%s'", cfg->socket_group);
			return -1;
		}
		*gid = gr->gr_gid;
	}
	if (slash == NULL || slash == sockpath)
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - sockpath), sockpath);
	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT) {
			snprintf(err, errlen, "socket folder %s: %s", dir, strerror(errno));
			return -1;
		}
		/* Ours to make: 0750, group socket_group, so clients of that group may connect. */
		if (fsutil_mkdir_p(dir, 0750, failed, sizeof(failed)) != 0) {
			snprintf(err, errlen, "cannot create the socket folder %s: %s", failed,
			    strerror(errno));
			return -1;
		}
		if (chmod(dir, 0750) != 0 ||
		    (*gid != (gid_t)-1 && chown(dir, (uid_t)-1, *gid) != 0)) {
			snprintf(err, errlen, "cannot set the mode of %s: %s", dir, strerror(errno));
			return -1;
		}
		return 0;
	}
	/*
	 * A folder that already exists is never changed (it may be /run).  It
	 * must be a real folder of ours or root's that nobody else can write,
	 * or another user could put their own socket in our place.
	 */
	if (!S_ISDIR(st.st_mode)) {
		snprintf(err, errlen, "socket folder %s is not a folder (or is a symbolic link); "
		    "refusing to start", dir);
		return -1;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		snprintf(err, errlen, "socket folder %s belongs to uid %ld, not to vanthud or root; "
		    "refusing to start", dir, (long)st.st_uid);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen, "socket folder %s is writable by its group or by others "
		    "(mode %04o); refusing to start: use a folder of vanthud's own, such as /run/vanthu",
		    dir, (unsigned)(st.st_mode & 07777));
		return -1;
	}
	if (*gid != (gid_t)-1 && !(st.st_mode & S_IXOTH) &&
	    !(st.st_gid == *gid && (st.st_mode & S_IXGRP)))
		log_warn("socket folder %s cannot be entered by group %s: its members cannot connect",
		    dir, cfg->socket_group);
	return 0;
}

int ctl_start(uv_loop_t *loop, const struct config *cfg, struct store *store,
    struct ctl **out, char *err, size_t errlen)
{
	struct ctl *ctl;
	gid_t gid;
	int rc;

	*out = NULL;
	ctl = calloc(1, sizeof(*ctl));
	if (ctl == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	ctl->loop = loop;
	ctl->cfg = cfg;
	ctl->store = store;
	{
		struct timespec ts;
		clock_now(&ts);
		ctl->started = ts.tv_sec;
		/* the coarse clock is the one file times come from: compared with them */
		clock_gettime(CLOCK_REALTIME_COARSE, &ctl->started_real);
	}
	snprintf(ctl->socket_path, sizeof(ctl->socket_path), "%s", cfg->socket);
	if (prepare_dir(cfg, cfg->socket, &gid, err, errlen) != 0 ||
	    clear_stale_socket(cfg->socket, err, errlen) != 0) {
		free(ctl);
		return -1;
	}
	uv_pipe_init(loop, &ctl->server, 0);
	ctl->server.data = ctl;
	ctl->server_open = 1;
	if ((rc = uv_pipe_bind(&ctl->server, cfg->socket)) != 0 ||
	    (rc = uv_listen((uv_stream_t *)&ctl->server, 128, on_connection)) != 0) {
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->socket, uv_strerror(rc));
		goto fail;
	}
	ctl->bound = 1;
	if (chmod(cfg->socket, 0660) != 0 ||
	    (gid != (gid_t)-1 && chown(cfg->socket, (uid_t)-1, gid) != 0)) {
		snprintf(err, errlen, "cannot set the mode of %s: %s", cfg->socket, strerror(errno));
		goto fail;
	}
	*out = ctl;
	return 0;
fail:
	/* The handle must be closed before ctl goes: the caller runs the loop once to finish. */
	ctl->stopping = 1;
	ctl_stop(ctl, NULL, NULL);
	return -1;
}

void ctl_set_config(struct ctl *ctl, const struct config *cfg)
{
	ctl->cfg = cfg;
}

void ctl_set_esign(struct ctl *ctl, struct esign *es)
{
	ctl->es = es;
}

void ctl_set_exchange(struct ctl *ctl, struct exchange *x)
{
	ctl->xch = x;
}

void ctl_set_catalog(struct ctl *ctl, struct catalog *cat)
{
	catalog_unref(ctl->cat);
	ctl->cat = catalog_ref(cat);
}

void ctl_on_round_change(struct ctl *ctl, void (*cb)(void *arg), void *arg)
{
	ctl->on_change = cb;
	ctl->on_change_arg = arg;
}

void ctl_on_publish_failed(struct ctl *ctl, void (*cb)(void *arg), void *arg)
{
	ctl->on_publish_failed = cb;
	ctl->on_publish_failed_arg = arg;
}

static void conn_maybe_done(struct ctl *ctl)
{
	if (!ctl->stopping || ctl->server_open || ctl->conns != NULL)
		return;
	void (*done)(void *) = ctl->done;
	void *arg = ctl->done_arg;
	catalog_unref(ctl->cat);
	free(ctl);
	if (done)
		done(arg);
}

static void on_server_closed(uv_handle_t *h)
{
	struct ctl *ctl = h->data;

	ctl->server_open = 0;
	conn_maybe_done(ctl);
}

void ctl_stop(struct ctl *ctl, void (*done)(void *arg), void *arg)
{
	struct conn *c, *next;

	ctl->stopping = 1;
	ctl->done = done;
	ctl->done_arg = arg;
	if (ctl->server_open && !uv_is_closing((uv_handle_t *)&ctl->server)) {
		uv_close((uv_handle_t *)&ctl->server, on_server_closed);
		if (ctl->bound)
			unlink(ctl->socket_path);
	}
	for (c = ctl->conns; c != NULL; c = next) {
		next = c->next;
		conn_close(c);
	}
	conn_maybe_done(ctl);
}
