/*
 * vanthu-convert.c: the LibreOfficeKit helper vanthud keeps warm (convert.c
 * starts it). It loads LibreOffice once and converts DOCX to PDF on request.
 *
 *   vanthu-convert OFFICE_PROGRAM_DIR PROFILE_DIR
 *
 * The request channel is fd 3 (a socketpair end); stdout and stderr are
 * LibreOffice's, whatever it prints there is not part of the protocol. Lines:
 *   helper:  READY <LibreOffice version>\n             once, when loaded
 *   request: CONVERT <docx path>\t<pdf path>\n         absolute, no control chars
 *   answer:  OK\n  or  ERR <English message>\n
 * The PDF is PDF/A-2b with every font embedded and Word bookmarks exported as
 * named destinations; it is written beside the target under a temporary name,
 * synced and renamed, so a half-written PDF never has the target's name.
 * EOF on fd 3 ends the helper; so does the parent's death (PR_SET_PDEATHSIG).
 * Never built with sanitizers: LibreOffice does not run under them.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wshadow"
#define LOK_USE_UNSTABLE_API
#include <LibreOfficeKit/LibreOfficeKitInit.h>
#include <LibreOfficeKit/LibreOfficeKit.h>
#pragma GCC diagnostic pop

#define CHAN_FD 3
#define LINE_MAX_LEN 8192 /* one request line, newline included */
#define PATH_MAX_LEN 4000 /* one path of a request */
#define URL_MAX_LEN (PATH_MAX_LEN * 3 + 16)
#define MSG_MAX_LEN 400

/*
 * The PDF export's filter data, as JSON in saveAs's options: LibreOfficeKit
 * 7.4's doc_saveAs passes the options on as FilterOptions (it only picks out
 * its own words such as TakeOwnership, splitting at commas and joining the
 * rest again), and the PDF export filter reads FilterOptions that start with
 * '{' as filter data. SelectPdfVersion 2 is PDF/A-2b, which embeds every font;
 * EmbedStandardFonts embeds even the 14 standard ones; the bookmarks of the
 * DOCX become named destinations (LibreOffice escapes '_' in their names).
 */
#define PDF_OPTIONS \
	"{\"SelectPdfVersion\":{\"type\":\"long\",\"value\":\"2\"}," \
	"\"ExportBookmarksToPDFDestination\":{\"type\":\"boolean\",\"value\":\"true\"}," \
	"\"EmbedStandardFonts\":{\"type\":\"boolean\",\"value\":\"true\"}," \
	"\"ExportBookmarks\":{\"type\":\"boolean\",\"value\":\"true\"}}"

/* Reads of fd 3, buffered: one request line at a time. */
struct chan {
	char buf[LINE_MAX_LEN];
	size_t len; /* bytes held in buf */
};

static int write_all(int fd, const char *s, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, s, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Sends "ERR msg\n", msg cut short and stripped of control characters. */
static int answer_err(const char *msg)
{
	char line[MSG_MAX_LEN + 8];
	size_t n = 0;
	memcpy(line, "ERR ", 4);
	n = 4;
	for (const char *p = msg; *p && n < MSG_MAX_LEN; p++)
		line[n++] = ((unsigned char)*p < 0x20 || *p == 0x7f) ? ' ' : *p;
	line[n++] = '\n';
	return write_all(CHAN_FD, line, n);
}

/*
 * Reads one line into line (NUL-terminated, newline dropped). 1: a line;
 * 0: EOF; -1: read error; -2: a line longer than the cap (skipped whole).
 */
static int chan_read_line(struct chan *c, char *line, size_t cap)
{
	bool overlong = false;
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			size_t n = (size_t)(nl - c->buf);
			int rc = 1;
			if (overlong || n >= cap) {
				rc = -2;
			} else {
				memcpy(line, c->buf, n);
				line[n] = '\0';
			}
			memmove(c->buf, nl + 1, c->len - n - 1);
			c->len -= n + 1;
			return rc;
		}
		if (c->len == sizeof(c->buf)) { /* no newline in a full buffer */
			overlong = true;
			c->len = 0;
		}
		ssize_t r = read(CHAN_FD, c->buf + c->len, sizeof(c->buf) - c->len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (r == 0)
			return 0;
		c->len += (size_t)r;
	}
}

/* A path a request may name: absolute, bounded, no control characters. */
static bool path_ok(const char *p)
{
	size_t n = strlen(p);
	if (n < 2 || n > PATH_MAX_LEN || p[0] != '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f)
			return false;
	return true;
}

/* file:// URL of an absolute path, every byte but unreserved ones and '/' escaped. */
static int path_url(const char *path, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	if (cap < 8)
		return -1;
	memcpy(out, "file://", 7);
	n = 7;
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '/' || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~';
		if (n + 4 > cap)
			return -1;
		if (plain) {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	out[n] = '\0';
	return 0;
}

/* fsync of the folder holding path, so a rename survives a crash. */
static int sync_dir_of(const char *path)
{
	char dir[PATH_MAX_LEN + 1];
	const char *slash = strrchr(path, '/');
	size_t n = slash == path ? 1 : (size_t)(slash - path);
	memcpy(dir, path, n);
	dir[n] = '\0';
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd);
	close(fd);
	return rc;
}

/* The temporary file is a PDF LibreOffice finished: starts %PDF-, ends %%EOF; then synced. */
static int check_and_sync(const char *tmp, char *msg, size_t msglen)
{
	char head[5], tail[64];
	struct stat st;
	int rc = -1;
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(msg, msglen, "LibreOffice wrote no PDF");
		return -1;
	}
	if (fstat(fd, &st) != 0 || st.st_size < 64) {
		snprintf(msg, msglen, "LibreOffice wrote an empty PDF");
		goto out;
	}
	if (pread(fd, head, sizeof head, 0) != (ssize_t)sizeof head ||
	    memcmp(head, "%PDF-", 5) != 0) {
		snprintf(msg, msglen, "LibreOffice wrote something that is not a PDF");
		goto out;
	}
	if (pread(fd, tail, sizeof tail, st.st_size - (off_t)sizeof tail) != (ssize_t)sizeof tail ||
	    memmem(tail, sizeof tail, "%%EOF", 5) == NULL) {
		snprintf(msg, msglen, "LibreOffice wrote a truncated PDF");
		goto out;
	}
	if (fsync(fd) != 0) {
		snprintf(msg, msglen, "fsync of the PDF: %s", strerror(errno));
		goto out;
	}
	rc = 0;
out:
	close(fd);
	return rc;
}

/* One conversion; 0, or -1 with msg. */
static int convert(LibreOfficeKit *office, const char *docx, const char *pdf, char *msg,
    size_t msglen)
{
	char in_url[URL_MAX_LEN], tmp_url[URL_MAX_LEN], tmp[PATH_MAX_LEN + 64];
	LibreOfficeKitDocument *doc = NULL;
	struct stat st;
	int rc = -1;
	bool tmp_made = false;

	if (stat(docx, &st) != 0) {
		snprintf(msg, msglen, "%s: %s", docx, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(msg, msglen, "%s: not a regular file", docx);
		return -1;
	}
	/* LibreOffice would make a missing folder (and its parents): refuse first */
	{
		char dir[PATH_MAX_LEN + 1];
		const char *slash = strrchr(pdf, '/');
		size_t n = slash == pdf ? 1 : (size_t)(slash - pdf);
		memcpy(dir, pdf, n);
		dir[n] = '\0';
		if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
			snprintf(msg, msglen, "%s: no such folder", dir);
			return -1;
		}
		if (slash[1] == '\0') {
			snprintf(msg, msglen, "%s: no file name", pdf);
			return -1;
		}
	}
	snprintf(tmp, sizeof tmp, "%s.%ld.part", pdf, (long)getpid());
	if (path_url(docx, in_url, sizeof in_url) != 0 ||
	    path_url(tmp, tmp_url, sizeof tmp_url) != 0) {
		snprintf(msg, msglen, "path too long");
		return -1;
	}
	doc = office->pClass->documentLoad(office, in_url);
	if (!doc) {
		char *e = office->pClass->getError(office);
		snprintf(msg, msglen, "LibreOffice cannot load %s: %s", docx,
		    e && *e ? e : "no reason given");
		if (e)
			office->pClass->freeError(e);
		goto out;
	}
	tmp_made = true;
	if (!doc->pClass->saveAs(doc, tmp_url, "pdf", PDF_OPTIONS)) {
		char *e = office->pClass->getError(office);
		snprintf(msg, msglen, "LibreOffice cannot export %s to PDF: %s", docx,
		    e && *e ? e : "no reason given");
		if (e)
			office->pClass->freeError(e);
		goto out;
	}
	if (check_and_sync(tmp, msg, msglen) != 0)
		goto out;
	if (rename(tmp, pdf) != 0) {
		snprintf(msg, msglen, "rename to %s: %s", pdf, strerror(errno));
		goto out;
	}
	tmp_made = false;
	if (sync_dir_of(pdf) != 0) {
		snprintf(msg, msglen, "fsync of the folder of %s: %s", pdf, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (doc)
		doc->pClass->destroy(doc);
	if (tmp_made)
		unlink(tmp);
	return rc;
}

/*
 * Settings the profile must hold before LibreOffice starts, as lines of its
 * registrymodifications.xcu (an item later in the file wins; LibreOffice
 * keeps them when it rewrites the file): no lock files (LibreOffice would
 * otherwise put ".~lock.NAME#" beside every DOCX it loads and every PDF it
 * saves, and leave them when killed), and no macros ever run.
 */
#define XCU_HEAD \
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<oor:items " \
	"xmlns:oor=\"http://openoffice.org/2001/registry\" " \
	"xmlns:xs=\"http://www.w3.org/2001/XMLSchema\" " \
	"xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n"
#define XCU_TAIL "</oor:items>\n"
#define XCU_CAP (8 << 20) /* a profile's settings file larger than this is not ours */
static const char *const xcu_items[] = {
	"<item oor:path=\"/org.openoffice.Office.Common/Misc\"><prop oor:name=\"UseLocking\" "
	"oor:op=\"fuse\"><value>false</value></prop></item>\n",
	"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\"><prop "
	"oor:name=\"DisableMacrosExecution\" oor:op=\"fuse\"><value>true</value></prop></item>\n",
	"<item oor:path=\"/org.openoffice.Office.Common/Security/Scripting\"><prop "
	"oor:name=\"MacroSecurityLevel\" oor:op=\"fuse\"><value>3</value></prop></item>\n",
};

/* Writes len bytes to path through path.tmp, synced and renamed. */
static int write_file_atomic(const char *path, const char *data, size_t len)
{
	char tmp[PATH_MAX_LEN + 64];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write_all(fd, data, len) != 0 || fsync(fd) != 0) {
		close(fd);
		unlink(tmp);
		return -1;
	}
	if (close(fd) != 0 || rename(tmp, path) != 0) {
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* Puts xcu_items into PROFILE/user/registrymodifications.xcu; 0 or -1 with msg. */
static int seed_profile(const char *profile, char *msg, size_t msglen)
{
	char user[PATH_MAX_LEN + 16], xcu[PATH_MAX_LEN + 64];
	char *old = NULL, *out = NULL;
	size_t oldlen = 0, outlen = 0, cap;
	struct stat st;
	int fd = -1, rc = -1;

	if (mkdir(profile, 0700) != 0 && errno != EEXIST) { /* vanthud made it; by hand, maybe not */
		snprintf(msg, msglen, "mkdir %s: %s", profile, strerror(errno));
		return -1;
	}
	snprintf(user, sizeof user, "%s/user", profile);
	snprintf(xcu, sizeof xcu, "%s/registrymodifications.xcu", user);
	if (mkdir(user, 0700) != 0 && errno != EEXIST) {
		snprintf(msg, msglen, "mkdir %s: %s", user, strerror(errno));
		return -1;
	}
	fd = open(xcu, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > XCU_CAP) {
			snprintf(msg, msglen, "%s: not a settings file", xcu);
			goto out;
		}
		oldlen = (size_t)st.st_size;
		old = malloc(oldlen + 1);
		if (!old || read(fd, old, oldlen) != (ssize_t)oldlen) {
			snprintf(msg, msglen, "cannot read %s", xcu);
			goto out;
		}
		old[oldlen] = '\0';
	} else if (errno != ENOENT) {
		snprintf(msg, msglen, "%s: %s", xcu, strerror(errno));
		goto out;
	}
	/* what is there up to its closing tag (all of a file without one is dropped) */
	char *end = old ? strstr(old, "</oor:items>") : NULL;
	size_t keep = end ? (size_t)(end - old) : 0;
	bool missing = !end;
	for (size_t i = 0; i < sizeof xcu_items / sizeof xcu_items[0]; i++)
		if (!end || !strstr(old, xcu_items[i]))
			missing = true;
	if (!missing) {
		rc = 0;
		goto out;
	}
	cap = keep + sizeof XCU_HEAD + sizeof XCU_TAIL + 1024;
	out = malloc(cap);
	if (!out) {
		snprintf(msg, msglen, "out of memory");
		goto out;
	}
	if (end) {
		memcpy(out, old, keep);
		outlen = keep;
	} else {
		memcpy(out, XCU_HEAD, sizeof XCU_HEAD - 1);
		outlen = sizeof XCU_HEAD - 1;
	}
	for (size_t i = 0; i < sizeof xcu_items / sizeof xcu_items[0]; i++) {
		size_t n = strlen(xcu_items[i]);
		memcpy(out + outlen, xcu_items[i], n);
		outlen += n;
	}
	memcpy(out + outlen, XCU_TAIL, sizeof XCU_TAIL - 1);
	outlen += sizeof XCU_TAIL - 1;
	if (write_file_atomic(xcu, out, outlen) != 0) {
		snprintf(msg, msglen, "cannot write %s: %s", xcu, strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(old);
	free(out);
	return rc;
}

/* "7.4.7.2" from getVersionInfo's JSON ({"ProductVersion":"7.4","ProductExtension":".7.2",…}). */
static void version_of(LibreOfficeKit *office, char *out, size_t cap)
{
	char *info = office->pClass->getVersionInfo ? office->pClass->getVersionInfo(office) : NULL;
	size_t n = 0;
	snprintf(out, cap, "unknown");
	if (!info)
		return;
	static const char *const keys[] = { "\"ProductVersion\"", "\"ProductExtension\"" };
	for (size_t k = 0; k < 2; k++) {
		const char *p = strstr(info, keys[k]);
		if (!p)
			continue;
		p = strchr(p + strlen(keys[k]), '"');
		if (!p)
			continue;
		for (p++; *p && *p != '"' && n + 1 < cap; p++)
			if ((*p >= '0' && *p <= '9') || *p == '.' || (*p >= 'a' && *p <= 'z') ||
			    (*p >= 'A' && *p <= 'Z'))
				out[n++] = *p;
		out[n] = '\0';
	}
	office->pClass->freeError(info);
}

int main(int argc, char **argv)
{
	static struct chan ch; /* 8 KiB: not on the stack */
	static char line[LINE_MAX_LEN];
	char profile_url[URL_MAX_LEN], version[64], ready[96], msg[MSG_MAX_LEN];
	LibreOfficeKit *office = NULL;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
		return 2;
	if (fcntl(CHAN_FD, F_SETFD, FD_CLOEXEC) != 0) /* not LibreOffice's children's */
		return 2;
	if (getppid() == 1) /* the parent died before PDEATHSIG was armed */
		return 2;
	signal(SIGPIPE, SIG_IGN);
	if (argc != 3 || argv[1][0] != '/' || !path_ok(argv[2])) {
		answer_err("usage: vanthu-convert OFFICE_PROGRAM_DIR PROFILE_DIR (absolute)");
		return 2;
	}
	if (path_url(argv[2], profile_url, sizeof profile_url) != 0) {
		answer_err("profile path too long");
		return 2;
	}
	if (seed_profile(argv[2], msg, sizeof msg) != 0) {
		answer_err(msg);
		return 1;
	}
	/* headless: no X, no Wayland; keep what the caller chose */
	setenv("SAL_USE_VCLPLUGIN", "svp", 0);
	office = lok_init_2(argv[1], profile_url);
	if (!office) {
		snprintf(msg, sizeof msg, "cannot load LibreOfficeKit from %s", argv[1]);
		answer_err(msg);
		return 1;
	}
	version_of(office, version, sizeof version);
	snprintf(ready, sizeof ready, "READY %s\n", version);
	if (write_all(CHAN_FD, ready, strlen(ready)) != 0)
		_exit(1);

	for (;;) {
		int r = chan_read_line(&ch, line, sizeof line);
		if (r == 0)
			break;
		if (r == -1)
			_exit(1);
		if (r == -2) {
			if (answer_err("request line too long") != 0)
				_exit(1);
			continue;
		}
		int wr;
		char *tab = strchr(line, '\t');
		if (strncmp(line, "CONVERT ", 8) != 0 || !tab) {
			wr = answer_err("unknown request");
		} else {
			*tab = '\0';
			const char *docx = line + 8, *pdf = tab + 1;
			if (!path_ok(docx) || !path_ok(pdf))
				wr = answer_err("paths must be absolute, without control characters");
			else if (convert(office, docx, pdf, msg, sizeof msg) != 0)
				wr = answer_err(msg);
			else
				wr = write_all(CHAN_FD, "OK\n", 3);
		}
		if (wr != 0)
			_exit(1);
	}
	/*
	 * EOF: vanthud closed the channel. Every document is destroyed already;
	 * LibreOffice's own teardown is slow and has crashed at exit in some
	 * versions, and nothing of it needs saving: leave at once.
	 */
	_exit(0);
}
