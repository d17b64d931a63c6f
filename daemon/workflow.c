/*
 * workflow.c: outgoing documents. Loads the kinds (workflows/<kind>/
 * workflow.xml and the schema of their input), decides whether a user may
 * take an action on a document in its present state (roles, comment
 * required, separation of duties), and carries the action out through the
 * store: one transaction for the step, its effects (the register number and
 * date) and its history entry.
 */
#include "workflow.h"

#include <dirent.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "hash.h"
#include "intake.h"
#include "vnfmt.h"
#include "xmlin.h"

#define WF_NS "urn:vanthu:workflow:1"
#define DOC_NS "urn:vanthu:document:1"
#define doc_child(n, name) xmlin_child((n), DOC_NS, (name))

/* An optional element's text in NFC: NULL when the element is absent. */
static char *text(xmlNodePtr n)
{
	return n ? xmlin_text(n) : NULL;
}

static int attr_true(xmlNodePtr n, const char *name)
{
	xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
	int t = v && (strcmp((const char *)v, "true") == 0 || strcmp((const char *)v, "1") == 0);

	xmlFree(v);
	return t;
}

static unsigned parse_roles(const char *list)
{
	unsigned roles = 0;
	char buf[256], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", list ? list : "");
	for (char *tok = strtok_r(buf, " \t\n", &save); tok; tok = strtok_r(NULL, " \t\n", &save))
		for (int r = 0; r < ROLE_COUNT; r++)
			if (strcmp(tok, config_role_name(r)) == 0)
				roles |= 1u << r;
	return roles;
}

static void free_kind(struct wf_kind *k)
{
	free(k->kind);
	free(k->label);
	free(k->type);
	free(k->template_name);
	free(k->root);
	free(k->title);
	free(k->party_template);
	free(k->party_type);
	xmlin_schema_free(k->schema);
	for (size_t i = 0; i < k->nstates; i++) {
		free(k->states[i].id);
		free(k->states[i].label);
	}
	free(k->states);
	for (size_t i = 0; i < k->ntransitions; i++) {
		struct wf_transition *t = &k->transitions[i];
		free(t->action);
		free(t->label);
		free(t->to);
		for (size_t j = 0; j < t->nfrom; j++)
			free(t->from[j]);
		free(t->from);
	}
	free(k->transitions);
	memset(k, 0, sizeof(*k));
}

const struct wf_state *wf_state_find(const struct wf_kind *k, const char *id)
{
	for (size_t i = 0; i < k->nstates; i++)
		if (strcmp(k->states[i].id, id) == 0)
			return &k->states[i];
	return NULL;
}

/* What the schema cannot say about a definition. */
static int check_kind(const struct wf_kind *k, const char *path, const char *dirname,
    struct diag_list *errs)
{
	int bad = 0, initial = 0, finals = 0;

	if (strcmp(k->kind, dirname) != 0) {
		diag_add(errs, path, 0, "loại \"%s\" khác tên thư mục của nó \"%s\"", k->kind, dirname);
		bad++;
	}
	for (size_t i = 0; i < k->nstates; i++) {
		initial += k->states[i].initial;
		finals += k->states[i].final;
		if (k->states[i].initial && k->states[i].final) {
			diag_add(errs, path, 0, "trạng thái \"%s\" không thể vừa là đầu vừa là cuối",
			    k->states[i].id);
			bad++;
		}
	}
	if (initial != 1) {
		diag_add(errs, path, 0, "phải có đúng một trạng thái đầu (initial); có %d", initial);
		bad++;
	}
	if (k->party_template && !(k->party_type || k->type)) {
		diag_add(errs, path, 0, "có party-template mà không có loại: số của văn bản Đảng "
		    "luôn ghi loại (party-type=\"CV\" cho công văn)");
		bad++;
	}
	for (size_t i = 0; i < k->nstates; i++)
		if (k->states[i].publishes && !k->states[i].numbers) {
			diag_add(errs, path, 0, "trạng thái \"%s\" ban hành (publish) mà chưa cấp số (number)",
			    k->states[i].id);
			bad++;
		}
	if (finals == 0) {
		diag_add(errs, path, 0, "không có trạng thái cuối (final): văn bản sẽ không bao giờ xong");
		bad++;
	}
	for (size_t i = 0; i < k->ntransitions; i++) {
		const struct wf_transition *t = &k->transitions[i];
		if (wf_state_find(k, t->to) == NULL) {
			diag_add(errs, path, 0, "thao tác \"%s\" đi tới trạng thái không có \"%s\"", t->action,
			    t->to);
			bad++;
		}
		for (size_t j = 0; j < t->nfrom; j++) {
			const struct wf_state *s = wf_state_find(k, t->from[j]);
			if (s == NULL) {
				diag_add(errs, path, 0, "thao tác \"%s\" đi từ trạng thái không có \"%s\"",
				    t->action, t->from[j]);
				bad++;
			} else if (s->final) {
				diag_add(errs, path, 0, "thao tác \"%s\" đi từ trạng thái cuối \"%s\"",
				    t->action, t->from[j]);
				bad++;
			}
			/* one action from one state leads one way only */
			for (size_t m = 0; m < i; m++)
				for (size_t n = 0; n < k->transitions[m].nfrom; n++)
					if (strcmp(k->transitions[m].action, t->action) == 0 &&
					    strcmp(k->transitions[m].from[n], t->from[j]) == 0) {
						diag_add(errs, path, 0, "thao tác \"%s\" được khai báo hai lần từ \"%s\"",
						    t->action, t->from[j]);
						bad++;
					}
		}
	}
	for (size_t i = 0; i < k->nstates; i++) {
		int out = 0;
		if (k->states[i].final)
			continue;
		for (size_t j = 0; j < k->ntransitions; j++)
			for (size_t m = 0; m < k->transitions[j].nfrom; m++)
				out += strcmp(k->transitions[j].from[m], k->states[i].id) == 0;
		if (!out) {
			diag_add(errs, path, 0, "trạng thái \"%s\" không phải trạng thái cuối nhưng không có lối ra",
			    k->states[i].id);
			bad++;
		}
	}
	return bad ? -1 : 0;
}

static int load_kind(const char *dir, const char *name, xmlSchemaPtr wfschema, struct wf_kind *k,
    struct diag_list *errs)
{
	char path[PATH_MAX], xsd[PATH_MAX];
	xmlDocPtr doc = NULL;
	char *buf = NULL;
	size_t len = 0, ns = 0, nt = 0;
	int rc = -1;

	memset(k, 0, sizeof(*k));
	snprintf(path, sizeof(path), "%s/%s/workflow.xml", dir, name);
	snprintf(xsd, sizeof(xsd), "%s/%s/schema.xsd", dir, name);
	if (xmlin_read_file(path, 1024 * 1024, &buf, &len, errs) != 0 ||
	    xmlin_parse(buf, len, path, &doc, errs) != 0 || xmlin_validate(wfschema, doc, path, errs) != 0)
		goto out;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	k->kind = xmlin_attr(root, "kind");
	k->label = xmlin_attr(root, "label");
	k->type = xmlin_attr(root, "type");
	k->template_name = xmlin_attr(root, "template");
	k->root = xmlin_attr(root, "root");
	k->title = xmlin_attr(root, "title");
	k->party_template = xmlin_attr(root, "party-template");
	k->party_type = xmlin_attr(root, "party-type");
	for (xmlNodePtr n = root->children; n; n = n->next) {
		ns += xmlin_is(n, WF_NS, "state");
		nt += xmlin_is(n, WF_NS, "transition");
	}
	k->states = calloc(ns, sizeof(*k->states));
	k->transitions = calloc(nt, sizeof(*k->transitions));
	if (!k->kind || !k->label || !k->template_name || !k->root || !k->states || !k->transitions)
		goto nomem;
	for (xmlNodePtr n = root->children; n; n = n->next) {
		if (xmlin_is(n, WF_NS, "state")) {
			struct wf_state *s = &k->states[k->nstates++];
			char *limit = xmlin_attr(n, "limit-days");
			s->id = xmlin_attr(n, "id");
			s->label = xmlin_attr(n, "label");
			s->initial = attr_true(n, "initial");
			s->final = attr_true(n, "final");
			s->limit_days = limit ? (unsigned)strtoul(limit, NULL, 10) : 0;
			free(limit);
			for (xmlNodePtr e = n->children; e; e = e->next) {
				char *what = xmlin_is(e, WF_NS, "on-enter") ? xmlin_attr(e, "do") : NULL;
				if (what && strcmp(what, "number") == 0)
					s->numbers = 1;
				if (what && strcmp(what, "publish") == 0)
					s->publishes = 1;
				free(what);
			}
			if (!s->id || !s->label)
				goto nomem;
		} else if (xmlin_is(n, WF_NS, "transition")) {
			struct wf_transition *t = &k->transitions[k->ntransitions++];
			char *from = xmlin_attr(n, "from"), *roles = xmlin_attr(n, "role"), *save = NULL;
			t->action = xmlin_attr(n, "action");
			t->label = xmlin_attr(n, "label");
			t->to = xmlin_attr(n, "to");
			t->roles = parse_roles(roles);
			t->comment_required = attr_true(n, "comment-required");
			t->not_author = attr_true(n, "not-author");
			t->author_only = attr_true(n, "author-only");
			t->named_signer = attr_true(n, "named-signer");
			free(roles);
			t->from = calloc(16, sizeof(char *));
			for (char *tok = from && t->from ? strtok_r(from, " \t\n", &save) : NULL;
			    tok && t->nfrom < 16; tok = strtok_r(NULL, " \t\n", &save))
				t->from[t->nfrom++] = strdup(tok);
			free(from);
			if (!t->action || !t->label || !t->to || !t->from)
				goto nomem;
		}
	}
	if (check_kind(k, path, name, errs) != 0)
		goto out;
	for (size_t i = 0; i < k->ntransitions; i++)
		k->transitions[i].to_state = wf_state_find(k, k->transitions[i].to);
	if (xmlin_schema_load(xsd, &k->schema, errs) != 0)
		goto out;
	rc = 0;
	goto out;
nomem:
	diag_add(errs, path, 0, "hết bộ nhớ, hoặc văn bản không phải UTF-8 hợp lệ");
out:
	xmlFreeDoc(doc);
	free(buf);
	if (rc != 0)
		free_kind(k);
	return rc;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int workflows_load(const char *dir, struct workflows **out, struct diag_list *errs)
{
	char path[PATH_MAX], *names[64];
	size_t nnames = 0;
	xmlSchemaPtr wfschema = NULL;
	struct workflows *wf = NULL;
	struct dirent *de;
	DIR *d;
	int rc = -1;

	*out = NULL;
	snprintf(path, sizeof(path), "%s/workflow.xsd", dir);
	if (xmlin_schema_load(path, &wfschema, errs) != 0)
		return -1;
	d = opendir(dir);
	if (d == NULL) {
		diag_add(errs, dir, 0, "không đọc được thư mục");
		goto out;
	}
	while ((de = readdir(d)) != NULL && nnames < 64) {
		char probe[PATH_MAX];
		if (de->d_name[0] == '.')
			continue;
		snprintf(probe, sizeof(probe), "%s/%s/workflow.xml", dir, de->d_name);
		if (access(probe, F_OK) == 0)
			names[nnames++] = strdup(de->d_name);
	}
	closedir(d);
	qsort(names, nnames, sizeof(char *), cmp_names);
	wf = calloc(1, sizeof(*wf));
	if (wf == NULL || (nnames && (wf->kinds = calloc(nnames, sizeof(*wf->kinds))) == NULL))
		goto out;
	rc = 0;
	for (size_t i = 0; i < nnames; i++) {
		if (names[i] == NULL || load_kind(dir, names[i], wfschema, &wf->kinds[wf->nkinds], errs) != 0)
			rc = -1;
		else
			wf->nkinds++;
	}
	if (rc == 0 && wf->nkinds == 0) {
		diag_add(errs, dir, 0, "không có loại văn bản nào (không có */workflow.xml)");
		rc = -1;
	}
	if (rc == 0) {
		*out = wf;
		wf = NULL;
	}
out:
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	workflows_free(wf);
	xmlin_schema_free(wfschema);
	return rc;
}

void workflows_free(struct workflows *wf)
{
	if (wf == NULL)
		return;
	for (size_t i = 0; i < wf->nkinds; i++)
		free_kind(&wf->kinds[i]);
	free(wf->kinds);
	free(wf);
}

const struct wf_kind *workflows_find(const struct workflows *wf, const char *kind)
{
	for (size_t i = 0; wf && i < wf->nkinds; i++)
		if (strcmp(wf->kinds[i].kind, kind) == 0)
			return &wf->kinds[i];
	return NULL;
}

const struct wf_kind *workflows_by_root(const struct workflows *wf, const char *name)
{
	for (size_t i = 0; wf && i < wf->nkinds; i++)
		if (strcmp(wf->kinds[i].root, name) == 0)
			return &wf->kinds[i];
	return NULL;
}

const char *workflow_template_for(const struct wf_kind *k, enum config_body_kind body)
{
	return body == BODY_PARTY ? k->party_template : k->template_name;
}

const char *workflow_type_for(const struct wf_kind *k, enum config_body_kind body)
{
	return body == BODY_PARTY && k->party_type ? k->party_type : k->type;
}

void workflow_symbol_of(const struct wf_kind *k, const struct config_body *body, const char *unit,
    struct symbol_of *out)
{
	out->party = body->kind == BODY_PARTY;
	out->type = workflow_type_for(k, body->kind);
	out->body = body->abbrev;
	out->unit = unit;
}

int workflow_check(const struct wf_kind *k, const struct store_doc *doc, const struct wf_actor *a,
    const char *action, const char *comment, const struct wf_transition **out, char *msg,
    size_t msglen)
{
	const struct wf_transition *named = NULL, *t = NULL;
	const struct wf_state *cur = wf_state_find(k, doc->state);
	char roles[256];

	*out = NULL;
	for (size_t i = 0; i < k->ntransitions; i++) {
		if (strcmp(k->transitions[i].action, action) != 0)
			continue;
		named = &k->transitions[i];
		for (size_t j = 0; j < named->nfrom; j++)
			if (strcmp(named->from[j], doc->state) == 0)
				t = named;
		if (t)
			break;
	}
	if (named == NULL) {
		snprintf(msg, msglen, "loại văn bản \"%s\" không có thao tác \"%s\"", k->label, action);
		return WF_UNKNOWN;
	}
	if (t == NULL) {
		const struct wf_state *need = wf_state_find(k, named->from[0]);
		snprintf(msg, msglen, "văn bản số %lld đang ở trạng thái \"%s\"; thao tác \"%s\" chỉ làm "
		    "được khi văn bản ở trạng thái \"%s\"%s", (long long)doc->id,
		    cur ? cur->label : doc->state, named->label, need ? need->label : named->from[0],
		    named->nfrom > 1 ? " (hoặc trạng thái khác được quy định)" : "");
		return WF_STATE;
	}
	if ((t->roles & a->roles) == 0) {
		config_roles_text(t->roles, 0, roles, sizeof(roles));
		snprintf(msg, msglen, "thao tác \"%s\" chỉ dành cho %s; %s không có vai trò đó", t->label,
		    roles, a->login);
		return WF_DENIED;
	}
	if (t->author_only && a->uid != doc->drafter_uid && !(a->roles & ROLE_ADMIN)) {
		snprintf(msg, msglen, "chỉ người soạn thảo (%s) mới được \"%s\" văn bản này", doc->drafter,
		    t->label);
		return WF_DENIED;
	}
	if (t->not_author && (a->uid == doc->drafter_uid || a->uid == doc->editor_uid)) {
		snprintf(msg, msglen, "%s đã soạn thảo hoặc sửa văn bản này nên không được \"%s\" nó; "
		    "việc này phải do người khác làm", a->login, t->label);
		return WF_DENIED;
	}
	if (t->named_signer && doc->signer_login && *doc->signer_login &&
	    strcmp(doc->signer_login, a->login) != 0) {
		snprintf(msg, msglen, "văn bản này do %s ký, không phải %s", doc->signer_login, a->login);
		return WF_DENIED;
	}
	if (t->comment_required && (comment == NULL || strspn(comment, " \t\r\n") == strlen(comment))) {
		snprintf(msg, msglen, "thao tác \"%s\" cần ghi rõ lý do (-m \"...\")", t->label);
		return WF_INVALID;
	}
	*out = t;
	return WF_OK;
}

/* Is name one of the "; "-separated names of list? */
static int listed_once(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && *p;) {
		const char *end = strstr(p, "; ");
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (len == n && strncmp(p, name, n) == 0)
			return 1;
		p = end ? end + 2 : NULL;
	}
	return 0;
}

/* What the store keeps beside the XML itself. */
struct doc_fields {
	char *summary, *signer_login, *signer_name, *recipients, *archive, *round_id, *drafting_unit;
	char *issuer;   /* the issuing body's abbreviation; NULL: the organisation */
	char *xml;      /* UTF-8, NFC */
	size_t xml_len;
	char sha[HASH_HEX_LEN + 1];
};

static void fields_free(struct doc_fields *f)
{
	free(f->summary);
	free(f->signer_login);
	free(f->signer_name);
	free(f->recipients);
	free(f->archive);
	free(f->round_id);
	free(f->drafting_unit);
	free(f->issuer);
	free(f->xml);
	memset(f, 0, sizeof(*f));
}

/* Parses and validates an input of kind k; fills f. 0, or -1 with errs. */
static int read_input(const struct wf_kind *k, const struct config *cfg,
    const struct units *units, const char *xml, size_t len, struct doc_fields *f,
    struct diag_list *errs)
{
	xmlDocPtr doc = NULL;
	xmlChar *dump = NULL;
	int dumplen = 0, rc = -1;
	size_t off = 0, cap = 0;

	memset(f, 0, sizeof(*f));
	if (xmlin_parse(xml, len, "input", &doc, errs) != 0)
		return -1;
	xmlNodePtr root = xmlDocGetRootElement(doc);
	if (!xmlin_is(root, DOC_NS, k->root)) {
		diag_add_at(errs, "input", (int)xmlGetLineNo(root), 0, "R_SCHEMA",
		    "phần tử gốc phải là <%s> trong không gian tên %s (văn bản loại %s)", k->root,
		    DOC_NS, k->kind);
		goto out;
	}
	if (xmlin_validate(k->schema, doc, "input", errs) != 0)
		goto out;
	xmlNodePtr signer = doc_child(root, "signer");
	f->summary = text(doc_child(root, "summary"));
	f->signer_login = xmlin_attr(signer, "login");
	f->signer_name = text(doc_child(signer, "name"));
	f->archive = text(doc_child(root, "archive"));
	f->round_id = text(doc_child(root, "round"));
	f->drafting_unit = text(doc_child(root, "drafting-unit"));
	f->issuer = xmlin_attr(root, "issuer");
	const struct config_body *body = config_find_body(cfg, f->issuer);
	if (body == NULL) {
		diag_add_at(errs, "input", (int)xmlGetLineNo(root), 0, "R_ISSUER",
		    "cơ quan ban hành \"%s\" không có trong cấu hình (vanthu.conf: [organisation] hoặc "
		    "[body %s])", f->issuer, f->issuer);
	} else if (workflow_template_for(k, body->kind) == NULL) {
		diag_add_at(errs, "input", (int)xmlGetLineNo(root), 0, "R_ISSUER",
		    body->kind == BODY_PARTY ? "loại văn bản \"%s\" không có mẫu của Đảng; %s là cấp ủy "
		    "Đảng" : "loại văn bản \"%s\" chỉ có mẫu của Đảng; %s là cơ quan nhà nước", k->label,
		    body->abbrev);
	}
	/*
	 * Recipients as the register lists them: the registry's short names, "; "
	 * between: a công văn's Kính gửi first (its Nơi nhận says only "Như trên"
	 * for them), then the Nơi nhận, each name once.
	 */
	f->recipients = calloc(1, 1);
	cap = 1;
	xmlNodePtr recs = doc_child(root, "recipients");
	for (xmlNodePtr c = root->children; c && f->recipients;
	    c = c->next ? c->next : c->parent == root && recs ? recs->children : NULL) {
		if (!xmlin_is(c, DOC_NS, c->parent == root ? "to" : "recipient"))
			continue;
		char *code = xmlin_attr(c, "unit"), *name = NULL;
		if (code != NULL) {
			const struct unit *u = units ? units_find(units, code) : NULL;
			if (u == NULL) {
				diag_add_at(errs, "input", (int)xmlGetLineNo(c), 0, "R_UNIT_UNKNOWN",
				    "%s: mã đơn vị \"%s\" không có trong danh mục đơn vị",
				    c->parent == root ? "kính gửi" : "nơi nhận", code);
				free(code);
				continue;
			}
			name = strdup(u->short_name);
		} else {
			name = text(c);
		}
		free(code);
		if (name == NULL)
			continue;
		if (listed_once(f->recipients, name)) {
			free(name);
			continue;
		}
		size_t need = off + strlen(name) + 3;
		if (need > cap) {
			char *p = realloc(f->recipients, need * 2);
			if (p == NULL) {
				free(name);
				break;
			}
			f->recipients = p;
			cap = need * 2;
		}
		off += (size_t)sprintf(f->recipients + off, "%s%s", off ? "; " : "", name);
		free(name);
	}
	if (errs->count > 0)
		goto out;
	if (!f->summary || !f->signer_name || !f->archive || !f->recipients) {
		diag_add(errs, "input", 0, "out of memory");
		goto out;
	}
	/* Kept as UTF-8 NFC whatever encoding it came in. */
	xmlDocDumpMemoryEnc(doc, &dump, &dumplen, "UTF-8");
	if (dump == NULL || vnfmt_nfc((const char *)dump, (size_t)dumplen, &f->xml) != VNFMT_OK) {
		diag_add(errs, "input", 0, "out of memory");
		goto out;
	}
	f->xml_len = strlen(f->xml);
	hash_sha256_hex(f->xml, f->xml_len, f->sha);
	rc = 0;
out:
	xmlFree(dump);
	xmlFreeDoc(doc);
	if (rc != 0)
		fields_free(f);
	return rc;
}

struct wf_input {
	struct doc_fields f;
	struct store_doc_new d;
	char login[64];   /* the drafter's: the actor's may not outlive the call (a spool item's) */
	char *origin;     /* owned: d.origin, when set */
};

int workflow_input_read(const struct wf_kind *k, const struct config *cfg,
    const struct units *units, const char *xml, size_t len, const struct wf_actor *a,
    struct wf_input **out, struct diag_list *errs)
{
	struct wf_input *in = calloc(1, sizeof(*in));

	*out = NULL;
	if (in == NULL)
		return -1;
	if (read_input(k, cfg, units, xml, len, &in->f, errs) != 0) {
		free(in);
		return -1;
	}
	for (size_t i = 0; i < k->nstates; i++)
		if (k->states[i].initial)
			in->d.state = k->states[i].id;
	in->d.kind = k->kind;
	in->d.summary = in->f.summary;
	in->d.signer_login = in->f.signer_login;
	in->d.signer_name = in->f.signer_name;
	in->d.recipients = in->f.recipients;
	in->d.archive = in->f.archive;
	in->d.round_id = in->f.round_id;
	in->d.drafting_unit = in->f.drafting_unit;
	in->d.issuer = in->f.issuer;
	in->d.uid = a->uid;
	snprintf(in->login, sizeof(in->login), "%s", a->login);
	in->d.login = in->login;
	in->d.content = in->f.xml;
	in->d.content_len = in->f.xml_len;
	in->d.sha256 = in->f.sha;
	*out = in;
	return 0;
}

const struct store_doc_new *workflow_input_doc(const struct wf_input *in)
{
	return &in->d;
}

void workflow_input_free(struct wf_input *in)
{
	if (in == NULL)
		return;
	fields_free(&in->f);
	free(in->origin);
	free(in);
}

int workflow_input_set_origin(struct wf_input *in, const char *what, const char *a,
    const char *b, const char *c)
{
	char *o = NULL;

	if (asprintf(&o, "%s:%s:%s%s%s", what, a ? a : "", b ? b : "", c ? ":" : "", c ? c : "") < 0)
		return -1;
	free(in->origin);
	in->origin = o;
	in->d.origin = o;
	return 0;
}

int workflow_create(struct store *st, const struct workflows *wf, const struct config *cfg,
    const struct units *units,
    const char *kind, const char *xml, size_t len, const struct wf_actor *a, int64_t *id,
    struct diag_list *errs, char *msg, size_t msglen)
{
	const struct wf_kind *k = workflows_find(wf, kind);
	struct wf_input *in = NULL;
	char err[256];
	int rc;

	if (k == NULL) {
		snprintf(msg, msglen, "không có loại văn bản \"%s\"", kind);
		return WF_UNKNOWN;
	}
	if (!(a->roles & ROLE_DRAFTER)) {
		snprintf(msg, msglen, "chỉ chuyên viên soạn thảo mới tạo được văn bản; %s không có vai trò "
		    "đó", a->login);
		return WF_DENIED;
	}
	if (workflow_input_read(k, cfg, units, xml, len, a, &in, errs) != 0) {
		snprintf(msg, msglen, "tệp không đúng mẫu văn bản \"%s\" (%zu lỗi)", k->label, errs->count);
		return WF_INVALID;
	}
	rc = store_doc_create(st, workflow_input_doc(in), id, err, sizeof(err));
	workflow_input_free(in);
	if (rc != STORE_OK) {
		snprintf(msg, msglen, "không lưu được văn bản: %s", err);
		return WF_INTERNAL;
	}
	return WF_OK;
}

/*
 * Reads document id and finds its kind. WF_OK with doc filled (free it with
 * store_doc_free) and *kind set; otherwise msg says why and doc needs no free.
 */
static int load_doc(struct store *st, const struct workflows *wf, int64_t id, struct store_doc *doc,
    const struct wf_kind **kind, char *msg, size_t msglen)
{
	char err[256];
	int rc = store_doc_get(st, id, doc, err, sizeof(err));

	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "không có văn bản số %lld", (long long)id);
		return WF_UNKNOWN;
	}
	if (rc != STORE_OK) {
		snprintf(msg, msglen, "không đọc được văn bản: %s", err);
		return WF_INTERNAL;
	}
	*kind = workflows_find(wf, doc->kind);
	if (*kind == NULL) {
		snprintf(msg, msglen, "loại văn bản \"%s\" không còn được định nghĩa", doc->kind);
		store_doc_free(doc);
		return WF_INTERNAL;
	}
	return WF_OK;
}

int workflow_edit(struct store *st, const struct workflows *wf, const struct config *cfg,
    const struct units *units,
    int64_t id, const char *xml, size_t len, const struct wf_actor *a, int64_t *revision,
    struct diag_list *errs, char *msg, size_t msglen)
{
	struct store_doc doc;
	struct wf_input *in = NULL;
	const struct wf_kind *k;
	const struct wf_state *s;
	char err[256];
	int rc;

	if ((rc = load_doc(st, wf, id, &doc, &k, msg, msglen)) != WF_OK)
		return rc;
	s = wf_state_find(k, doc.state);
	if (s == NULL) {
		snprintf(msg, msglen, "trạng thái \"%s\" không còn trong quy trình của loại \"%s\"",
		    doc.state, k->label);
		rc = WF_INTERNAL;
		goto out;
	}
	if (!s->initial) {
		snprintf(msg, msglen, "văn bản số %lld đang ở trạng thái \"%s\"; chỉ sửa được khi là dự thảo",
		    (long long)id, s->label);
		rc = WF_STATE;
		goto out;
	}
	if (!(a->roles & ROLE_DRAFTER)) {
		snprintf(msg, msglen, "chỉ chuyên viên soạn thảo mới sửa được văn bản; %s không có vai trò "
		    "đó", a->login);
		rc = WF_DENIED;
		goto out;
	}
	if (workflow_input_read(k, cfg, units, xml, len, a, &in, errs) != 0) {
		snprintf(msg, msglen, "tệp không đúng mẫu văn bản \"%s\" (%zu lỗi)", k->label, errs->count);
		rc = WF_INVALID;
		goto out;
	}
	rc = store_doc_edit(st, id, workflow_input_doc(in), revision, err, sizeof(err));
	workflow_input_free(in);
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "văn bản số %lld vừa đổi trạng thái; hãy xem lại", (long long)id);
		rc = WF_STATE;
	} else if (rc != STORE_OK) {
		snprintf(msg, msglen, "không lưu được bản sửa: %s", err);
		rc = WF_INTERNAL;
	} else {
		rc = WF_OK;
	}
out:
	store_doc_free(&doc);
	return rc;
}

int workflow_act(struct store *st, const struct workflows *wf, const struct config *cfg,
    int64_t id, const char *action, const char *comment, const struct wf_actor *a,
    const struct store_signed_pdf *pdf,
    char *symbol, size_t symlen, const struct wf_transition **done, char *msg, size_t msglen)
{
	const struct wf_transition *t;
	const struct wf_kind *k;
	const struct wf_state *to;
	struct store_doc doc;
	struct store_transition tr;
	struct symbol_of sym;
	char err[256], day[16];
	int rc, y, m, d;

	symbol[0] = '\0';
	*done = NULL;
	if ((rc = load_doc(st, wf, id, &doc, &k, msg, msglen)) != WF_OK)
		return rc;
	rc = workflow_check(k, &doc, a, action, comment, &t, msg, msglen);
	if (rc != WF_OK)
		goto out;
	to = t->to_state;
	memset(&tr, 0, sizeof(tr));
	tr.id = id;
	tr.from = doc.state;
	tr.to = t->to;
	tr.action = t->action;
	tr.comment = comment && *comment ? comment : NULL;
	tr.uid = a->uid;
	tr.login = a->login;
	tr.signed_pdf = pdf;
	if (to->numbers) {
		const struct config_body *body = config_find_body(cfg, doc.issuer);
		const struct config_term *term = NULL;
		clock_today_vn(&y, &m, &d);
		snprintf(day, sizeof(day), "%04d-%02d-%02d", y, m, d);
		if (body == NULL) {
			snprintf(msg, msglen, "cơ quan ban hành \"%s\" của văn bản này không còn trong cấu "
			    "hình (vanthu.conf); chưa cấp số được", doc.issuer);
			rc = WF_INVALID;
			goto out;
		}
		if (body->kind == BODY_PARTY && (term = config_body_term(body, day)) == NULL) {
			snprintf(msg, msglen, "chưa có nhiệm kỳ nào của %s bắt đầu trước ngày %02d/%02d/%04d "
			    "(vanthu.conf: term); chưa cấp số được", body->abbrev, d, m, y);
			rc = WF_INVALID;
			goto out;
		}
		workflow_symbol_of(k, body, doc.drafting_unit, &sym);
		tr.numbering = &sym;
		tr.term = term ? term->name : NULL;
		tr.year = y;
		tr.kind_label = k->label;
		tr.issued_on = day;
	}
	rc = store_doc_transition(st, &tr, err, sizeof(err));
	if (rc == STORE_INVALID) {
		snprintf(msg, msglen, "văn bản số %lld vừa đổi trạng thái; hãy xem lại", (long long)id);
		rc = WF_STATE;
	} else if (rc != STORE_OK) {
		snprintf(msg, msglen, "không ghi được thao tác: %s", err);
		rc = WF_INTERNAL;
	} else {
		snprintf(symbol, symlen, "%s", tr.symbol);
		*done = t;
		rc = WF_OK;
	}
out:
	store_doc_free(&doc);
	return rc;
}

/* ---- as a kind of intake input ---- */

/*
 * A document dropped in the spool becomes a draft of the person whose folder
 * it is in (incoming/@login/, which that person alone can write), when that
 * person is a drafter. A file's owner is not its author: on a shared folder
 * anyone can move someone else's file in.
 */
static int intake_check(const struct intake_env *env, const struct intake_input *in,
    xmlDocPtr doc, struct intake_outcome *out, struct diag_list *errs)
{
	xmlNodePtr root = xmlDocGetRootElement(doc);
	const struct wf_kind *k = workflows_by_root(env->cat->wf, (const char *)root->name);
	struct wf_input *wi = NULL;
	struct wf_actor a;

	if (k == NULL) {
		diag_add_at(errs, in->shown, (int)xmlGetLineNo(root), 0, "R_SCHEMA",
		    "không có loại văn bản <%s>", (const char *)root->name);
		return -1;
	}
	if (in->sender == NULL) {
		diag_add_at(errs, in->shown, 0, 0, "R_DENIED", "dự thảo văn bản chỉ được nhận từ thư "
		    "mục riêng của chuyên viên soạn thảo (incoming/@<tên đăng nhập>/) hoặc qua "
		    "\"vanthuctl new\"; ở thư mục này không biết ai là người soạn");
		return -1;
	}
	if (!(in->sender->roles & ROLE_DRAFTER)) {
		diag_add_at(errs, in->shown, 0, 0, "R_DENIED", "người gửi tệp (%s) không phải chuyên "
		    "viên soạn thảo; chỉ chuyên viên mới tạo được dự thảo văn bản", in->sender->login);
		return -1;
	}
	a.uid = (int64_t)in->sender->uid;
	a.login = in->sender->login;
	a.roles = in->sender->roles;
	if (workflow_input_read(k, env->cfg, env->cat->units, in->data, in->len, &a, &wi,
	        errs) != 0)
		return -1;
	out->parsed = wi;
	out->doc_kind = k->label;
	return 0;
}

static void intake_record(const struct intake_outcome *out, struct store_input *si)
{
	si->doc = workflow_input_doc(out->parsed);
}

static void intake_release(void *parsed)
{
	workflow_input_free(parsed);
}

const struct intake_kind workflow_intake_kind = {
	.ns = WF_DOC_NS, .root = NULL, .what = "document",
	.check = intake_check, .record = intake_record, .release = intake_release,
};
