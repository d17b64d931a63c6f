/*
 * config.c: vanthu.conf. Reads the INI file with inih over the embedded
 * default, checks every key and value, and reports every problem with its
 * file and line. Knows nothing of what the settings are used for.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <ini.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edxml.h"
#include "vnfmt.h"

#define CONFIG_MAX_BYTES (1024 * 1024)

enum key_type { KEY_PATH, KEY_TEXT, KEY_GROUP, KEY_UINT, KEY_LOGLEVEL, KEY_ROUNDS };

struct key {
	const char *section;
	const char *name;
	enum key_type type;
	size_t offset;          /* into struct config */
	unsigned min, max;      /* KEY_UINT */
};

#define OFF(field) offsetof(struct config, field)
static const struct key keys[] = {
	{ "paths", "spool", KEY_PATH, OFF(spool), 0, 0 },
	{ "paths", "database", KEY_PATH, OFF(database), 0, 0 },
	{ "paths", "socket", KEY_PATH, OFF(socket), 0, 0 },
	{ "paths", "socket_group", KEY_GROUP, OFF(socket_group), 0, 0 },
	{ "paths", "templates", KEY_PATH, OFF(templates), 0, 0 },
	{ "paths", "workflows", KEY_PATH, OFF(workflows), 0, 0 },
	{ "paths", "units", KEY_PATH, OFF(units), 0, 0 },
	{ "paths", "calendar", KEY_PATH, OFF(calendar), 0, 0 },
	{ "roles", "drafter", KEY_GROUP, OFF(role_group[0]), 0, 0 },
	{ "roles", "reviewer", KEY_GROUP, OFF(role_group[1]), 0, 0 },
	{ "roles", "signer", KEY_GROUP, OFF(role_group[2]), 0, 0 },
	{ "roles", "clerk", KEY_GROUP, OFF(role_group[3]), 0, 0 },
	{ "roles", "admin", KEY_GROUP, OFF(role_group[4]), 0, 0 },
	{ "roles", "auditor", KEY_GROUP, OFF(role_group[5]), 0, 0 },
	{ "limits", "max_clients", KEY_UINT, OFF(max_clients), 1, 4096 },
	{ "limits", "max_clients_per_uid", KEY_UINT, OFF(max_clients_per_uid), 1, 4096 },
	{ "limits", "idle_timeout", KEY_UINT, OFF(idle_timeout), 1, 86400 },
	{ "intake", "max_size", KEY_UINT, OFF(intake_max_size), 1024, 1024u * 1024 * 1024 },
	{ "intake", "settle", KEY_UINT, OFF(intake_settle), 0, 600000 },
	{ "intake", "rescan", KEY_UINT, OFF(intake_rescan), 50, 3600000 },
	{ "intake", "batch", KEY_UINT, OFF(intake_batch), 1, 4096 },
	{ "intake", "rounds", KEY_ROUNDS, OFF(intake_rounds_optional), 0, 0 },
	{ "rounds", "drafter", KEY_GROUP, OFF(round_drafter), 0, 0 },
	{ "log", "level", KEY_LOGLEVEL, OFF(log_level), 0, 0 },
	{ "signing", "module", KEY_PATH, OFF(sign_module), 0, 0 },
	{ "signing", "token", KEY_TEXT, OFF(sign_token), 0, 0 },
	{ "signing", "key", KEY_TEXT, OFF(sign_key), 0, 0 },
	{ "signing", "key_id", KEY_TEXT, OFF(sign_key_id), 0, 0 },
	{ "signing", "pin_file", KEY_PATH, OFF(sign_pin_file), 0, 0 },
	{ "signing", "trust", KEY_PATH, OFF(sign_trust), 0, 0 },
	{ "signing", "seal_image", KEY_PATH, OFF(sign_seal_image), 0, 0 },
	{ "signing", "seal_size", KEY_UINT, OFF(sign_seal_mm), 20, 80 },
	{ "signing", "font", KEY_PATH, OFF(sign_font), 0, 0 },
	{ "signing", "office", KEY_PATH, OFF(sign_office), 0, 0 },
	{ "signing", "converter", KEY_PATH, OFF(sign_converter), 0, 0 },
	{ "exchange", "transport", KEY_TEXT, OFF(xch_transport), 0, 0 },
	{ "exchange", "servers", KEY_TEXT, OFF(xch_servers), 0, 0 },
	{ "exchange", "user", KEY_TEXT, OFF(xch_user), 0, 0 },
	{ "exchange", "password_file", KEY_PATH, OFF(xch_password_file), 0, 0 },
	{ "exchange", "token_file", KEY_PATH, OFF(xch_token_file), 0, 0 },
	{ "exchange", "creds", KEY_PATH, OFF(xch_creds), 0, 0 },
	{ "exchange", "ca", KEY_PATH, OFF(xch_ca), 0, 0 },
	{ "exchange", "stream", KEY_TEXT, OFF(xch_stream), 0, 0 },
	{ "exchange", "subject_prefix", KEY_TEXT, OFF(xch_prefix), 0, 0 },
	{ "exchange", "replicas", KEY_UINT, OFF(xch_replicas), 1, 5 },
	{ "exchange", "late_after", KEY_UINT, OFF(xch_late_after), 1, 43200 },
	{ "exchange", "retry_max", KEY_UINT, OFF(xch_retry_max), 1, 86400 },
	{ "exchange", "trust", KEY_PATH, OFF(xch_trust), 0, 0 },
};
#undef OFF

static const char *const role_names[ROLE_COUNT] = {
	"drafter", "reviewer", "signer", "clerk", "admin", "auditor",
};

static const char *const authorities[] = { "TM.", "KT.", "TL.", "TUQ.", "Q." };

void config_roles_text(unsigned roles, int with_names, char *out, size_t len)
{
	static const char *const labels[ROLE_COUNT] = { "chuyên viên soạn thảo", "người kiểm duyệt",
		"lãnh đạo ký", "văn thư", "quản trị", "giám sát" };
	size_t off = 0;

	out[0] = '\0';
	for (int r = 0; r < ROLE_COUNT; r++) {
		if (!(roles & (1u << r)))
			continue;
		int n = with_names ?
		    snprintf(out + off, len - off, "%s%s (%s)", off ? ", " : "", labels[r], role_names[r]) :
		    snprintf(out + off, len - off, "%s%s", off ? " hoặc " : "", labels[r]);
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
}

const char *config_role_name(int role_bit_index)
{
	if (role_bit_index < 0 || role_bit_index >= ROLE_COUNT)
		return "?";
	return role_names[role_bit_index];
}

/* The parser's state: the input in memory and the line inih is on. */
struct parse {
	const char *name;   /* file name for messages */
	const char *text;
	size_t len, pos;
	int line;
	struct config *cfg;
	struct diag_list *diags;
	int errors;
};

static void problem(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void problem(struct parse *p, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->errors++;
	diag_add(p->diags, p->name, p->line, "%s", msg);
}

/*
 * The shapes inih accepts: blank, comment, [section], key = value, or an
 * indented continuation. Checked here so that every bad line is reported,
 * not only the first one inih would name.
 */
static int line_shape_ok(const char *line)
{
	const char *s = line;

	if (*s == '\0' || *s == '\n' || *s == '\r' || *s == ';' || *s == '#')
		return 1;
	if (strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	if (*s == '[')
		return strchr(s, ']') != NULL;
	return strpbrk(s, "=:") != NULL && *s != '=' && *s != ':';
}

static const char *const sections[] = { "paths", "organisation", "roles", "limits", "log",
	"intake", "rounds", "signing", "exchange" };

/* Reports a [section] header that names no known section (even one with no keys). */
static int known_section(struct parse *p, const char *line)
{
	const char *end = strchr(line, ']');
	size_t len;

	if (end == NULL)
		return 1;  /* line_shape_ok reports it */
	len = (size_t)(end - line - 1);
	if (len > 5 && (strncmp(line + 1, "user ", 5) == 0 || strncmp(line + 1, "body ", 5) == 0))
		return 1;
	for (size_t i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strlen(sections[i]) == len && strncmp(line + 1, sections[i], len) == 0)
			return 1;
	problem(p, "không có mục [%.*s]", (int)(len > 64 ? 64 : len), line + 1);
	return 0;
}

/*
 * inih's reader: hands over one line at a time so that the handler knows
 * the line number. A line longer than inih's buffer is reported here and
 * replaced by a comment, so inih never sees half a line.
 */
static char *read_line(char *buf, int size, void *stream)
{
	struct parse *p = stream;
	const char *start, *nl;
	size_t n;

	if (p->pos >= p->len)
		return NULL;
	start = p->text + p->pos;
	nl = memchr(start, '\n', p->len - p->pos);
	n = nl ? (size_t)(nl - start) + 1 : p->len - p->pos;
	p->pos += n;
	p->line++;
	if (n + 1 > (size_t)size - 2) {
		problem(p, "dòng dài quá %d byte", 196);
		strcpy(buf, ";\n");
		return buf;
	}
	/* Leading blanks are indentation, never inih's continuation lines. */
	while (n > 0 && (*start == ' ' || *start == '\t')) {
		start++;
		n--;
	}
	memcpy(buf, start, n);
	buf[n] = '\0';
	if (buf[0] == '[' && !known_section(p, buf)) {
		strcpy(buf, "[?]\n");
		return buf;
	}
	if (!line_shape_ok(buf)) {
		problem(p, "không phải dòng [mục] hay dòng khóa = giá trị");
		strcpy(buf, ";\n");
	}
	return buf;
}

static int set_string(struct parse *p, char **slot, const char *value, int normalise)
{
	char *copy = NULL;

	if (normalise) {
		int rc = vnfmt_nfc(value, strlen(value), &copy);
		if (rc == VNFMT_EINVAL) {
			problem(p, "giá trị không phải UTF-8 hợp lệ");
			return -1;
		}
		if (rc != VNFMT_OK)
			return -1;
	} else {
		copy = strdup(value);
		if (copy == NULL)
			return -1;
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int valid_group_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static void set_key(struct parse *p, const struct key *k, const char *value)
{
	void *slot = (char *)p->cfg + k->offset;

	switch (k->type) {
	case KEY_PATH:
		if (*value == '\0' || strlen(value) >= PATH_MAX) {
			problem(p, "%s: cần một đường dẫn", k->name);
			return;
		}
		set_string(p, slot, value, 0);
		return;
	case KEY_TEXT:
		set_string(p, slot, value, 1);
		return;
	case KEY_GROUP:
		if (!valid_group_name(value)) {
			problem(p, "%s: '%s' không phải là tên nhóm hợp lệ", k->name, value);
			return;
		}
		set_string(p, slot, value, 0);
		return;
	case KEY_UINT: {
		char *end;
		unsigned long v;
		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || end == value || *end != '\0' || *value == '-' || *value == '+' ||
		    v < k->min || v > k->max) {
			problem(p, "%s: cần một số nguyên từ %u đến %u, không phải '%s'",
			    k->name, k->min, k->max, value);
			return;
		}
		*(unsigned *)slot = (unsigned)v;
		return;
	}
	case KEY_LOGLEVEL:
		if (log_parse_level(value, slot) != 0)
			problem(p, "%s: '%s' không phải là một trong error, warning, info, debug", k->name, value);
		return;
	case KEY_ROUNDS:
		if (strcmp(value, "required") == 0 || strcmp(value, "optional") == 0)
			*(int *)slot = strcmp(value, "optional") == 0;
		else
			problem(p, "%s: '%s' không phải là required hay optional", k->name, value);
		return;
	}
}

static struct config_user *user_slot(struct parse *p, const char *login)
{
	struct config *cfg = p->cfg;
	struct config_user *users;

	for (size_t i = 0; i < cfg->nusers; i++)
		if (strcmp(cfg->users[i].login, login) == 0)
			return &cfg->users[i];
	users = realloc(cfg->users, (cfg->nusers + 1) * sizeof(*users));
	if (users == NULL)
		return NULL;
	cfg->users = users;
	memset(&users[cfg->nusers], 0, sizeof(users[0]));
	users[cfg->nusers].login = strdup(login);
	if (users[cfg->nusers].login == NULL)
		return NULL;
	return &users[cfg->nusers++];
}

static void set_user_key(struct parse *p, const char *login, const char *name, const char *value)
{
	struct config_user *u;

	if (*login == '\0' || strlen(login) > 64 || strchr(login, ' ') != NULL) {
		problem(p, "[user %s]: không phải là tên đăng nhập hợp lệ", login);
		return;
	}
	u = user_slot(p, login);
	if (u == NULL) {
		problem(p, "hết bộ nhớ");
		return;
	}
	if (strcmp(name, "full_name") == 0) {
		set_string(p, &u->full_name, value, 1);
	} else if (strcmp(name, "title") == 0) {
		set_string(p, &u->title, value, 1);
	} else if (strcmp(name, "party_title") == 0) {
		set_string(p, &u->party_title, value, 1);
	} else if (strcmp(name, "certificate") == 0) {
		/* the SHA-256 of the signer's certificate, as `openssl x509 -fingerprint -sha256`
		 * prints it (colons and case do not matter) */
		char hex[65];
		size_t n = 0;
		for (const char *c = value; *c && n <= 64; c++) {
			if (*c == ':')
				continue;
			if (!((*c >= '0' && *c <= '9') || (*c >= 'a' && *c <= 'f') || (*c >= 'A' && *c <= 'F'))) {
				n = 65;
				break;
			}
			hex[n++] = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
		}
		if (n != 64) {
			problem(p, "certificate: cần dấu vân tay SHA-256 của chứng thư số (64 chữ số hex), "
			    "không phải '%s'", value);
			return;
		}
		hex[64] = '\0';
		set_string(p, &u->certificate, hex, 0);
	} else if (strcmp(name, "signature_image") == 0) {
		if (value[0] != '/') {
			problem(p, "signature_image: cần đường dẫn tuyệt đối của ảnh chữ ký (PNG), "
			    "không phải '%s'", value);
			return;
		}
		set_string(p, &u->signature_image, value, 0);
	} else if (strcmp(name, "authority") == 0) {
		for (size_t i = 0; i < sizeof(authorities) / sizeof(authorities[0]); i++) {
			if (strcmp(value, authorities[i]) == 0) {
				set_string(p, &u->authority, value, 0);
				return;
			}
		}
		problem(p, "authority: '%s' không phải là một trong TM., KT., TL., TUQ., Q.", value);
	} else {
		problem(p, "không có khóa '%s' trong [user %s]", name, login);
	}
}

/* A body's slot by abbreviation: bodies[0] is [organisation], found by index, not by name. */
static struct config_body *body_slot(struct parse *p, const char *abbrev)
{
	struct config *cfg = p->cfg;
	struct config_body *bodies;

	for (size_t i = 1; i < cfg->nbodies; i++)
		if (strcmp(cfg->bodies[i].abbrev, abbrev) == 0)
			return &cfg->bodies[i];
	bodies = realloc(cfg->bodies, (cfg->nbodies + 1) * sizeof(*bodies));
	if (bodies == NULL)
		return NULL;
	cfg->bodies = bodies;
	char *a = strdup(abbrev), *parent = strdup("");
	if (a == NULL || parent == NULL) {
		free(a);
		free(parent);
		return NULL;
	}
	memset(&bodies[cfg->nbodies], 0, sizeof(bodies[0]));
	bodies[cfg->nbodies].abbrev = a;
	bodies[cfg->nbodies].parent = parent;
	return &bodies[cfg->nbodies++];
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0) ? 29 : dm[m - 1];
}

/* "2025-2030 2025-10-15": a term's name and its first day, kept in order of start. */
static void add_term(struct parse *p, struct config_body *b, const char *value)
{
	struct config_term t, *terms;
	int y, m, d, n = 0;
	char name[64];

	memset(&t, 0, sizeof(t));
	if (sscanf(value, "%63s %4d-%2d-%2d%n", name, &y, &m, &d, &n) != 4 || value[n] != '\0' ||
	    strlen(name) >= sizeof(t.name) || y < 1930 || y > 2999 || m < 1 || m > 12 || d < 1 ||
	    d > days_in_month(y, m)) {
		problem(p, "term: cần tên nhiệm kỳ và ngày đầu của nó, như "
		    "\"2025-2030 2025-10-15\", không phải '%s'", value);
		return;
	}
	snprintf(t.name, sizeof(t.name), "%s", name);
	snprintf(t.start, sizeof(t.start), "%04d-%02d-%02d", y, m, d);
	for (size_t i = 0; i < b->nterms; i++) {
		if (strcmp(b->terms[i].name, t.name) == 0 || strcmp(b->terms[i].start, t.start) == 0) {
			problem(p, "term: %s (%s) trùng tên hoặc ngày đầu của một nhiệm kỳ trước", t.name,
			    t.start);
			return;
		}
	}
	terms = realloc(b->terms, (b->nterms + 1) * sizeof(*terms));
	if (terms == NULL) {
		problem(p, "hết bộ nhớ");
		return;
	}
	b->terms = terms;
	size_t at = b->nterms;
	while (at > 0 && strcmp(terms[at - 1].start, t.start) > 0) {
		terms[at] = terms[at - 1];
		at--;
	}
	terms[at] = t;
	b->nterms++;
}

/* A key of an issuing body: [organisation] (bodies[0], which alone takes abbreviation:
 * a [body ABBR] has it in its header) or a [body ABBR]. Returns 0 when name is none. */
static int set_body_key(struct parse *p, struct config_body *b, int organisation,
    const char *name, const char *value)
{
	if (strcmp(name, "kind") == 0) {
		if (strcmp(value, "state") == 0)
			b->kind = BODY_STATE;
		else if (strcmp(value, "party") == 0)
			b->kind = BODY_PARTY;
		else
			problem(p, "kind: '%s' không phải là state hay party", value);
	} else if (strcmp(name, "term") == 0) {
		add_term(p, b, value);
	} else if (strcmp(name, "collective") == 0) {
		set_string(p, &b->collective, value, 1);
	} else if (strcmp(name, "name") == 0) {
		set_string(p, &b->name, value, 1);
	} else if (strcmp(name, "parent") == 0) {
		set_string(p, &b->parent, value, 1);
	} else if (strcmp(name, "place") == 0) {
		set_string(p, &b->place, value, 1);
	} else if (strcmp(name, "id") == 0) {
		int shape = edxml_check_organ_id(value);
		if (shape < 0)
			problem(p, "id: '%.40s' không dùng được làm mã định danh (tối đa 35 ký tự: chữ, số, "
			    "'.', '-', '_'; không bắt đầu hay kết thúc bằng '.')", value);
		else
			set_string(p, &b->id, value, 0);
	} else if (organisation && strcmp(name, "abbreviation") == 0) {
		set_string(p, &b->abbrev, value, 1);
	} else {
		return 0;
	}
	return 1;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
	struct parse *p = user;
	int known_section = 0;

	if (strncmp(section, "user ", 5) == 0) {
		set_user_key(p, section + 5, name, value);
		return 1;
	}
	if (strncmp(section, "body ", 5) == 0) {
		char *abbrev = NULL;
		struct config_body *b;
		if (vnfmt_nfc(section + 5, strlen(section + 5), &abbrev) != VNFMT_OK) {
			problem(p, "[%s]: tên viết tắt không phải UTF-8 hợp lệ", section);
			return 1;
		}
		b = body_slot(p, abbrev);
		free(abbrev);
		if (b == NULL)
			problem(p, "hết bộ nhớ");
		else if (!set_body_key(p, b, 0, name, value))
			problem(p, "không có khóa '%s' trong [%s]", name, section);
		return 1;
	}
	if (strcmp(section, "organisation") == 0) {
		if (!set_body_key(p, &p->cfg->bodies[0], 1, name, value))
			problem(p, "không có khóa '%s' trong [organisation]", name);
		return 1;
	}
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		if (strcmp(section, keys[i].section) != 0)
			continue;
		known_section = 1;
		if (strcmp(name, keys[i].name) == 0) {
			set_key(p, &keys[i], value);
			return 1;
		}
	}
	if (known_section)
		problem(p, "không có khóa '%s' trong [%s]", name, section);
	else if (*section == '\0')
		problem(p, "khóa '%s' nằm ngoài mọi mục", name);
	/* keys under "[?]" belong to an unknown section, already reported */
	return 1;
}

int config_default(struct config *cfg)
{
	static const char *const groups[ROLE_COUNT] = {
		"vanthu-drafter", "vanthu-reviewer", "vanthu-signer",
		"vanthu-clerk", "vanthu-admin", "vanthu-auditor",
	};

	memset(cfg, 0, sizeof(*cfg));
	cfg->spool = strdup("./spool");
	cfg->database = strdup("./vanthu.db");
	cfg->socket = strdup("./run/vanthu.sock");
	cfg->templates = strdup("./build/templates");
	cfg->workflows = strdup("./workflows");
	cfg->max_clients = 256;
	cfg->max_clients_per_uid = 64;
	cfg->idle_timeout = 300;
	cfg->intake_max_size = 20u * 1024 * 1024;
	cfg->intake_settle = 2000;
	cfg->intake_rescan = 1000;
	cfg->intake_batch = 256;
	cfg->round_drafter = strdup("vanthu");
	cfg->log_level = LOG_LEVEL_INFO;
	/* the organisation, the first issuing body */
	if ((cfg->bodies = calloc(1, sizeof(*cfg->bodies))) == NULL)
		goto fail;
	cfg->nbodies = 1;
	cfg->bodies[0].name = strdup("Ủy ban nhân dân tỉnh Bà Rịa - Vũng Tàu");
	cfg->bodies[0].parent = strdup("");
	cfg->bodies[0].abbrev = strdup("UBND");
	cfg->bodies[0].place = strdup("Bà Rịa - Vũng Tàu");
	for (int i = 0; i < ROLE_COUNT; i++)
		if ((cfg->role_group[i] = strdup(groups[i])) == NULL)
			goto fail;
	if (!cfg->spool || !cfg->database || !cfg->socket || !cfg->templates ||
	    !cfg->workflows || !cfg->bodies[0].name || !cfg->bodies[0].parent ||
	    !cfg->bodies[0].abbrev || !cfg->bodies[0].place || !cfg->round_drafter)
		goto fail;
	return 0;
fail:
	config_free(cfg);
	return -1;
}

/*
 * [signing] is all or nothing: the organisation's token (module, and the PIN's
 * file), the trust anchors and the seal; token, key and key_id only choose.
 * Without a section nothing is signed and every document is issued as a DOCX.
 */
static void check_signing(struct parse *p)
{
	struct config *cfg = p->cfg;
	for (size_t i = 0; i < cfg->nusers; i++)
		if ((cfg->users[i].certificate == NULL) != (cfg->users[i].signature_image == NULL))
			problem(p, "[user %s]: certificate và signature_image đi cùng nhau (chứng thư số "
			    "và ảnh chữ ký của người ký số)", cfg->users[i].login);
	int any = cfg->sign_module || cfg->sign_token || cfg->sign_key || cfg->sign_key_id ||
	    cfg->sign_pin_file || cfg->sign_trust || cfg->sign_seal_image || cfg->sign_seal_mm ||
	    cfg->sign_font || cfg->sign_office || cfg->sign_converter;

	if (!any)
		return;
	if (cfg->sign_module == NULL)
		problem(p, "[signing] cần module = (thư viện PKCS#11 của thiết bị ký số của cơ quan)");
	if (cfg->sign_pin_file == NULL)
		problem(p, "[signing] cần pin_file = (tệp chứa mã PIN của thiết bị ký số của cơ quan)");
	if (cfg->sign_trust == NULL)
		problem(p, "[signing] cần trust = (tệp PEM các chứng thư gốc được tin cậy, như "
		    "chứng thư gốc của Ban Cơ yếu Chính phủ)");
	if (cfg->sign_seal_image == NULL)
		problem(p, "[signing] cần seal_image = (ảnh con dấu của cơ quan: PNG màu đỏ, nền trong suốt)");
	if (cfg->sign_font == NULL &&
	    (cfg->sign_font = strdup(CONFIG_DEFAULT_SIGN_FONT)) == NULL)
		problem(p, "hết bộ nhớ");
	if (cfg->sign_office == NULL &&
	    (cfg->sign_office = strdup(CONFIG_DEFAULT_SIGN_OFFICE)) == NULL)
		problem(p, "hết bộ nhớ");
	cfg->signing = 1;
}

/*
 * [exchange] is all or nothing too: a transport, for nats its servers, and at
 * least one issuing body with an id (the address others send to).
 */
static void check_exchange(struct parse *p)
{
	struct config *cfg = p->cfg;
	int any = cfg->xch_transport || cfg->xch_servers || cfg->xch_user || cfg->xch_password_file ||
	    cfg->xch_token_file || cfg->xch_creds || cfg->xch_ca || cfg->xch_stream ||
	    cfg->xch_prefix || cfg->xch_replicas || cfg->xch_late_after || cfg->xch_retry_max ||
	    cfg->xch_trust;
	int ids = 0;

	for (size_t i = 0; i < cfg->nbodies; i++) {
		if (cfg->bodies[i].id == NULL)
			continue;
		ids++;
		for (size_t j = 0; j < i; j++)
			if (cfg->bodies[j].id && strcmp(cfg->bodies[j].id, cfg->bodies[i].id) == 0)
				problem(p, "id %s là của hai cơ quan ban hành", cfg->bodies[i].id);
	}
	if (!any)
		return;
	if (cfg->xch_late_after == 0)
		cfg->xch_late_after = 120;
	if (cfg->xch_retry_max == 0)
		cfg->xch_retry_max = 300;
	if (cfg->xch_transport == NULL) {
		problem(p, "[exchange] cần transport = nats (NATS JetStream) hoặc folder (thư mục "
		    "spool/exchange cho cổng kết nối)");
		return;
	}
	if (strcmp(cfg->xch_transport, "nats") == 0) {
		if (cfg->xch_servers == NULL)
			problem(p, "[exchange] cần servers = (địa chỉ máy chủ NATS, như "
			    "nats://127.0.0.1:4222)");
		else if (strncmp(cfg->xch_servers, "nats://", 7) != 0 &&
		    strncmp(cfg->xch_servers, "tls://", 6) != 0)
			problem(p, "[exchange] servers: '%.60s' phải bắt đầu bằng nats:// hoặc tls://",
			    cfg->xch_servers);
		if ((cfg->xch_user == NULL) != (cfg->xch_password_file == NULL))
			problem(p, "[exchange] user và password_file đi cùng nhau");
	} else if (strcmp(cfg->xch_transport, "folder") == 0) {
		if (cfg->xch_servers || cfg->xch_user || cfg->xch_password_file || cfg->xch_token_file ||
		    cfg->xch_creds || cfg->xch_ca || cfg->xch_stream || cfg->xch_prefix ||
		    cfg->xch_replicas)
			problem(p, "[exchange] transport = folder không dùng servers, user, "
			    "password_file, token_file, creds, ca, stream, subject_prefix, replicas");
	} else {
		problem(p, "[exchange] transport: '%.40s' không phải là nats hay folder",
		    cfg->xch_transport);
	}
	if (ids == 0)
		problem(p, "[exchange] cần mã định danh của cơ quan: thêm id = (như 000.00.01.H56) "
		    "vào [organisation]");
	if (cfg->xch_trust == NULL && cfg->sign_trust == NULL)
		problem(p, "[exchange] cần trust = (tệp PEM các chứng thư gốc để kiểm tra chữ ký số "
		    "của văn bản đến), hoặc [signing] trust");
	cfg->exchange = 1;
}

/* What must hold once every key is read. */
static void check_whole(struct parse *p)
{
	struct config *cfg = p->cfg;

	p->line = 0;
	for (int i = 0; i < ROLE_COUNT; i++)
		for (int j = i + 1; j < ROLE_COUNT; j++)
			if (strcmp(cfg->role_group[i], cfg->role_group[j]) == 0)
				problem(p, "[roles] %s và %s chỉ cùng một nhóm", role_names[i], role_names[j]);
	if (cfg->max_clients_per_uid > cfg->max_clients)
		problem(p, "[limits] max_clients_per_uid lớn hơn max_clients");
	for (size_t i = 0; i < cfg->nbodies; i++) {
		struct config_body *b = &cfg->bodies[i];
		char where[96];
		if (i == 0)
			snprintf(where, sizeof(where), "[organisation]");
		else
			snprintf(where, sizeof(where), "[body %.60s]", b->abbrev);
		if (b->abbrev[0] == '\0' || strpbrk(b->abbrev, " \t/,") != NULL || strlen(b->abbrev) > 31)
			problem(p, "%s: tên viết tắt phải là một từ, không có '/' hay ',', như "
			    "UBND hoặc TU", where);
		for (size_t j = 0; j < i; j++)
			if (strcmp(cfg->bodies[j].abbrev, b->abbrev) == 0)
				problem(p, "%s: tên viết tắt %s đã là của một cơ quan ban hành trước", where,
				    b->abbrev);
		if (b->name == NULL || b->name[0] == '\0')
			problem(p, "%s: name không được để trống", where);
		if (b->place == NULL && (b->place = strdup(cfg->bodies[0].place)) == NULL)
			problem(p, "hết bộ nhớ");
		else if (b->place[0] == '\0')
			problem(p, "%s: place không được để trống (nó mở đầu dòng ngày tháng)", where);
		if (b->kind == BODY_PARTY) {
			if (b->nterms == 0)
				problem(p, "%s: cấp ủy Đảng đánh số trong nhiệm kỳ: thêm "
				    "\"term = 2025-2030 2025-10-15\" (tên nhiệm kỳ và ngày đầu)", where);
			if (b->collective == NULL || b->collective[0] == '\0')
				problem(p, "%s: cấp ủy Đảng cần collective = (tập thể được ký thay bằng "
				    "\"T/M\", như Ban Thường vụ)", where);
		} else if (b->nterms > 0 || b->collective != NULL) {
			problem(p, "%s: term và collective chỉ dùng cho kind = party", where);
		}
	}
	check_signing(p);
	check_exchange(p);
}

/* Parses text over the embedded default; the number of problems, or -1 (no memory, cfg freed). */
static int parse_string(const char *name, const char *text, size_t len, struct config *cfg,
    struct diag_list *diags)
{
	struct parse p = { .name = name, .text = text, .len = len, .cfg = cfg, .diags = diags };
	int rc;

	if (config_default(cfg) != 0) {
		diag_add(diags, name, 0, "hết bộ nhớ");
		return -1;
	}
	if ((cfg->path = strdup(name)) == NULL) {
		config_free(cfg);
		return -1;
	}
	rc = ini_parse_stream(read_line, &p, handler, &p);
	if (rc > 0) {
		/* inih's own syntax error: a line that is neither [section] nor key = value. */
		p.line = rc;
		problem(&p, "không phải dòng [mục] hay dòng khóa = giá trị");
	} else if (rc < 0) {
		diag_add(diags, name, 0, "hết bộ nhớ");
		p.errors++;
	}
	check_whole(&p);
	return p.errors;
}

int config_load_string(const char *name, const char *text, size_t len,
    struct config *cfg, struct diag_list *diags)
{
	int n = parse_string(name, text, len, cfg, diags);

	if (n == 0)
		return 0;
	if (n > 0)
		config_free(cfg);
	return -1;
}

/* Reads file into memory (at most CONFIG_MAX_BYTES); 0, or -1 with the problem in diags. */
static int read_file(const char *file, char **out, size_t *outlen, struct diag_list *diags)
{
	char *text = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc = -1;
	struct stat st;

	*out = NULL;
	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		diag_add(diags, file, 0, "không mở được: %s", diag_strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		diag_add(diags, file, 0, "không phải là tệp thường");
		goto out;
	}
	if (st.st_size > CONFIG_MAX_BYTES) {
		diag_add(diags, file, 0, "lớn hơn %d byte", CONFIG_MAX_BYTES);
		goto out;
	}
	text = malloc((size_t)st.st_size + 1);
	if (text == NULL) {
		diag_add(diags, file, 0, "hết bộ nhớ");
		goto out;
	}
	while (len < (size_t)st.st_size) {
		n = read(fd, text + len, (size_t)st.st_size - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			diag_add(diags, file, 0, "không đọc được: %s", diag_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	*out = text;
	*outlen = len;
	text = NULL;
	rc = 0;
out:
	free(text);
	close(fd);
	return rc;
}

int config_load(const char *file, struct config *cfg, struct diag_list *diags)
{
	char *text;
	size_t len;
	int rc;

	if (read_file(file, &text, &len, diags) != 0)
		return -1;
	rc = config_load_string(file, text, len, cfg, diags);
	free(text);
	return rc;
}

int config_load_all(const char *file, struct config *cfg, struct diag_list *diags)
{
	char *text;
	size_t len;
	int n;

	if (read_file(file, &text, &len, diags) != 0)
		return -2;
	n = parse_string(file, text, len, cfg, diags);
	free(text);
	return n == 0 ? 0 : n > 0 ? -1 : -2;
}

/* The checks of config_check_paths: where the messages go and how many there were. */
struct pcheck {
	const char *file;
	struct diag_list *diags;
	int errors;
};

static void pproblem(struct pcheck *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void pproblem(struct pcheck *c, const char *fmt, ...)
{
	char msg[PATH_MAX * 2 + 256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->errors++;
	diag_add(c->diags, c->file, 0, "%s", msg);
}

static void parent_of(const char *path, char *out, size_t size)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(out, size, ".");
	else if (slash == path)
		snprintf(out, size, "/");
	else
		snprintf(out, size, "%.*s", (int)(slash - path), path);
}

/* A folder vanthud makes in parent: parent must be a folder it may write in. */
static void check_parent_writable(struct pcheck *c, const char *key, const char *path,
    const char *parent)
{
	struct stat st;

	if (stat(parent, &st) != 0)
		pproblem(c, "%s: không tạo được %s: %s: %s", key, path, parent, diag_strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		pproblem(c, "%s: không tạo được %s: %s không phải là thư mục", key, path, parent);
	else if (access(parent, W_OK | X_OK) != 0)
		pproblem(c, "%s: không tạo được %s: %s: %s", key, path, parent, diag_strerror(errno));
}

/*
 * A folder vanthud makes with every missing folder above it (mkdir -p): the
 * deepest one that exists must be a folder it may write in.
 */
static void check_creatable_dir(struct pcheck *c, const char *key, const char *path)
{
	char buf[PATH_MAX];
	struct stat st;

	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode))
			pproblem(c, "%s: %s đã có và không phải là thư mục", key, path);
		else if (access(path, W_OK | X_OK) != 0)
			pproblem(c, "%s: không ghi được vào %s: %s", key, path, diag_strerror(errno));
		return;
	}
	if (errno != ENOENT && errno != ENOTDIR) {
		pproblem(c, "%s: %s: %s", key, path, diag_strerror(errno));
		return;
	}
	snprintf(buf, sizeof(buf), "%s", path);
	for (;;) {
		char up[PATH_MAX];
		parent_of(buf, up, sizeof(up));
		if (strcmp(up, buf) == 0)
			return;
		snprintf(buf, sizeof(buf), "%s", up);
		if (stat(buf, &st) == 0) {
			check_parent_writable(c, key, path, buf);
			return;
		}
		if (errno != ENOENT) {
			pproblem(c, "%s: không tạo được %s: %s: %s", key, path, buf, diag_strerror(errno));
			return;
		}
	}
}

/* The owner and mode rules of spool.c for a folder that is already there. */
static void check_own_dir(struct pcheck *c, const char *path, int shared)
{
	struct stat st;

	if (lstat(path, &st) != 0) {
		if (errno != ENOENT)
			pproblem(c, "spool: %s: %s", path, diag_strerror(errno));
		return;   /* made at start, in a spool checked writable */
	}
	if (!S_ISDIR(st.st_mode)) {
		pproblem(c, "spool: %s không phải là thư mục (liên kết tượng trưng không bao giờ "
		    "được đi theo)", path);
		return;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0)
		pproblem(c, "spool: %s thuộc uid %ld, không phải của vanthud (uid %ld) hay root",
		    path, (long)st.st_uid, (long)geteuid());
	else if (!shared && ((st.st_mode & S_IWOTH) ||
	             ((st.st_mode & S_IWGRP) && st.st_gid != getegid())))
		pproblem(c, "spool: người khác ghi được vào %s (quyền %04o, nhóm %ld): chmod go-w",
		    path, (unsigned)(st.st_mode & 07777), (long)st.st_gid);
	else if (access(path, W_OK | X_OK) != 0)
		pproblem(c, "spool: không ghi được vào %s: %s", path, diag_strerror(errno));
}

/* The spool as spool_open makes or takes it: its root (one mkdir) and its six folders. */
static void check_spool(struct pcheck *c, const char *root)
{
	static const struct { const char *name; int shared; } dirs[] = {
		{ "incoming", 1 }, { "claimed", 0 }, { "accepted", 0 },
		{ "rejected", 0 }, { "receipts", 0 }, { "outgoing", 0 },
	};
	char parent[PATH_MAX], path[PATH_MAX];
	struct stat st;

	if (stat(root, &st) != 0) {
		if (errno != ENOENT && errno != ENOTDIR) {
			pproblem(c, "spool: %s: %s", root, diag_strerror(errno));
			return;
		}
		/* vanthud makes the spool itself, not the folders above it */
		parent_of(root, parent, sizeof(parent));
		check_parent_writable(c, "spool", root, parent);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		pproblem(c, "spool: %s đã có và không phải là thư mục", root);
		return;
	}
	if ((st.st_uid != geteuid() && st.st_uid != 0) || (st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != getegid())) {
		pproblem(c, "spool: %s phải thuộc vanthud hoặc root và không ai khác ghi được vào "
		    "(chủ %ld, nhóm %ld, quyền %04o): một đơn vị có thể thay các thư mục của nó",
		    root, (long)st.st_uid, (long)st.st_gid, (unsigned)(st.st_mode & 07777));
		return;
	}
	if (access(root, W_OK | X_OK) != 0) {
		pproblem(c, "spool: không ghi được vào %s: %s", root, diag_strerror(errno));
		return;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i].name);
		check_own_dir(c, path, dirs[i].shared);
	}
}

/* Is gid one of this process's groups (so that it may chown a file to it)? */
static int in_group(gid_t gid)
{
	gid_t groups[NGROUPS_MAX];
	int n = getgroups(NGROUPS_MAX, groups);

	if (geteuid() == 0 || getegid() == gid)
		return 1;
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return 1;
	return 0;
}

/* The socket's folder and group, as ctl.c makes or takes them. */
static void check_socket(struct pcheck *c, const struct config *cfg)
{
	char dir[PATH_MAX];
	struct stat st;

	if (strlen(cfg->socket) >= 108)
		pproblem(c, "socket: %s dài quá mức một đường dẫn socket Unix cho phép (107 byte)",
		    cfg->socket);
	if (cfg->socket_group != NULL) {
		struct group *gr = getgrnam(cfg->socket_group);
		if (gr == NULL)
			pproblem(c, "socket_group: không có nhóm '%s'", cfg->socket_group);
		else if (!in_group(gr->gr_gid))
			pproblem(c, "socket_group: vanthud (uid %ld) không ở trong nhóm '%s' nên không "
			    "giao được socket cho nhóm đó", (long)geteuid(), cfg->socket_group);
	}
	parent_of(cfg->socket, dir, sizeof(dir));
	if (lstat(dir, &st) != 0) {
		if (errno != ENOENT)
			pproblem(c, "socket: %s: %s", dir, diag_strerror(errno));
		else
			check_creatable_dir(c, "socket", dir);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		pproblem(c, "socket: thư mục %s không phải là thư mục (hoặc là liên kết tượng trưng)",
		    dir);
		return;
	}
	if (strcmp(dir, ".") != 0 && strcmp(dir, "/") != 0) {
		if (st.st_uid != geteuid() && st.st_uid != 0)
			pproblem(c, "socket: thư mục %s thuộc uid %ld, không phải của vanthud hay root",
			    dir, (long)st.st_uid);
		else if (st.st_mode & (S_IWGRP | S_IWOTH))
			pproblem(c, "socket: nhóm hoặc người khác ghi được vào thư mục %s (quyền %04o): "
			    "hãy dùng một thư mục riêng của vanthud, như /run/vanthu", dir,
			    (unsigned)(st.st_mode & 07777));
	}
	if (access(dir, W_OK | X_OK) != 0)
		pproblem(c, "socket: không ghi được vào %s: %s", dir, diag_strerror(errno));
	if (lstat(cfg->socket, &st) == 0 && !S_ISSOCK(st.st_mode))
		pproblem(c, "socket: %s đã có và không phải là socket; vanthud không thay nó",
		    cfg->socket);
}

static void check_existing_dir(struct pcheck *c, const char *key, const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		pproblem(c, "%s: %s: %s", key, path, diag_strerror(errno));
	else if (!S_ISDIR(st.st_mode))
		pproblem(c, "%s: %s không phải là thư mục", key, path);
}

int config_check_paths(const struct config *cfg, struct diag_list *diags)
{
	struct pcheck c = { .file = cfg->path, .diags = diags };
	char dir[PATH_MAX];
	struct stat st;

	check_spool(&c, cfg->spool);
	parent_of(cfg->database, dir, sizeof(dir));
	check_creatable_dir(&c, "database", dir);
	if (stat(cfg->database, &st) == 0) {
		if (!S_ISREG(st.st_mode))
			pproblem(&c, "database: %s không phải là tệp thường", cfg->database);
		else if (access(cfg->database, R_OK | W_OK) != 0)
			pproblem(&c, "database: %s: %s", cfg->database, diag_strerror(errno));
	}
	check_socket(&c, cfg);
	check_existing_dir(&c, "templates", cfg->templates);
	check_existing_dir(&c, "workflows", cfg->workflows);
	return c.errors ? -1 : 0;
}

void config_units_path(const struct config *cfg, char *out, size_t size)
{
	if (cfg->units != NULL)
		snprintf(out, size, "%s", cfg->units);
	else
		snprintf(out, size, "%s/units.xml", cfg->workflows);
}

void config_calendar_path(const struct config *cfg, char *out, size_t size)
{
	if (cfg->calendar != NULL)
		snprintf(out, size, "%s", cfg->calendar);
	else
		snprintf(out, size, "%s/calendar", cfg->workflows);
}

const struct config_body *config_find_body(const struct config *cfg, const char *abbrev)
{
	if (cfg->nbodies == 0)
		return NULL;
	if (abbrev == NULL || *abbrev == '\0')
		return &cfg->bodies[0];
	for (size_t i = 0; i < cfg->nbodies; i++)
		if (strcmp(cfg->bodies[i].abbrev, abbrev) == 0)
			return &cfg->bodies[i];
	return NULL;
}

const struct config_term *config_body_term(const struct config_body *b, const char *day)
{
	const struct config_term *t = NULL;

	for (size_t i = 0; i < b->nterms; i++)
		if (strcmp(b->terms[i].start, day) <= 0)
			t = &b->terms[i];
	return t;
}

const struct config_term *config_find_term(const struct config_body *b, const char *name)
{
	for (size_t i = 0; i < b->nterms; i++)
		if (strcmp(b->terms[i].name, name) == 0)
			return &b->terms[i];
	return NULL;
}

const char *config_body_kind_name(enum config_body_kind kind)
{
	return kind == BODY_PARTY ? "party" : "state";
}

const struct config_user *config_find_user(const struct config *cfg, const char *login)
{
	for (size_t i = 0; i < cfg->nusers; i++)
		if (strcmp(cfg->users[i].login, login) == 0)
			return &cfg->users[i];
	return NULL;
}

static char *dup_or_null(const char *s, int *bad)
{
	char *d = s ? strdup(s) : NULL;

	if (s && d == NULL)
		*bad = 1;
	return d;
}

void config_free_identity(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nusers; i++) {
		free(cfg->users[i].login);
		free(cfg->users[i].full_name);
		free(cfg->users[i].title);
		free(cfg->users[i].authority);
		free(cfg->users[i].party_title);
		free(cfg->users[i].certificate);
		free(cfg->users[i].signature_image);
	}
	free(cfg->users);
	cfg->users = NULL;
	cfg->nusers = 0;
	for (size_t i = 0; i < cfg->nbodies; i++) {
		free(cfg->bodies[i].abbrev);
		free(cfg->bodies[i].name);
		free(cfg->bodies[i].parent);
		free(cfg->bodies[i].place);
		free(cfg->bodies[i].collective);
		free(cfg->bodies[i].id);
		free(cfg->bodies[i].terms);
	}
	free(cfg->bodies);
	cfg->bodies = NULL;
	cfg->nbodies = 0;
}

int config_copy_identity(struct config *dst, const struct config *src)
{
	int bad = 0;

	config_free_identity(dst);
	dst->bodies = calloc(src->nbodies ? src->nbodies : 1, sizeof(*dst->bodies));
	dst->users = calloc(src->nusers ? src->nusers : 1, sizeof(*dst->users));
	if (dst->bodies == NULL || dst->users == NULL)
		goto fail;
	for (size_t i = 0; i < src->nbodies; i++) {
		const struct config_body *b = &src->bodies[i];
		struct config_body *c = &dst->bodies[dst->nbodies++];
		c->kind = b->kind;
		c->abbrev = dup_or_null(b->abbrev, &bad);
		c->name = dup_or_null(b->name, &bad);
		c->parent = dup_or_null(b->parent, &bad);
		c->place = dup_or_null(b->place, &bad);
		c->collective = dup_or_null(b->collective, &bad);
		c->id = dup_or_null(b->id, &bad);
		if (b->nterms) {
			if ((c->terms = malloc(b->nterms * sizeof(*c->terms))) == NULL)
				goto fail;
			memcpy(c->terms, b->terms, b->nterms * sizeof(*c->terms));
			c->nterms = b->nterms;
		}
	}
	for (size_t i = 0; i < src->nusers; i++) {
		const struct config_user *u = &src->users[i];
		struct config_user *c = &dst->users[dst->nusers++];
		c->login = dup_or_null(u->login, &bad);
		c->full_name = dup_or_null(u->full_name, &bad);
		c->title = dup_or_null(u->title, &bad);
		c->authority = dup_or_null(u->authority, &bad);
		c->party_title = dup_or_null(u->party_title, &bad);
		c->certificate = dup_or_null(u->certificate, &bad);
		c->signature_image = dup_or_null(u->signature_image, &bad);
	}
	if (!bad)
		return 0;
fail:
	config_free_identity(dst);
	return -1;
}

void config_free(struct config *cfg)
{
	free(cfg->path);
	free(cfg->spool);
	free(cfg->database);
	free(cfg->socket);
	free(cfg->socket_group);
	free(cfg->templates);
	free(cfg->workflows);
	free(cfg->units);
	free(cfg->calendar);
	free(cfg->round_drafter);
	free(cfg->sign_module);
	free(cfg->sign_token);
	free(cfg->sign_key);
	free(cfg->sign_key_id);
	free(cfg->sign_pin_file);
	free(cfg->sign_trust);
	free(cfg->sign_seal_image);
	free(cfg->sign_font);
	free(cfg->sign_office);
	free(cfg->sign_converter);
	free(cfg->xch_transport);
	free(cfg->xch_servers);
	free(cfg->xch_user);
	free(cfg->xch_password_file);
	free(cfg->xch_token_file);
	free(cfg->xch_creds);
	free(cfg->xch_ca);
	free(cfg->xch_stream);
	free(cfg->xch_prefix);
	free(cfg->xch_trust);
	for (int i = 0; i < ROLE_COUNT; i++)
		free(cfg->role_group[i]);
	config_free_identity(cfg);
	memset(cfg, 0, sizeof(*cfg));
}
