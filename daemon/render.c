/*
 * render.c: DOCX templates, the one file that uses libzip. A template is a
 * .docx with Mustache tags ({{x}}, {{a.b}}, {{#list}}, {{^x}}, {{/x}}).
 * Loading parses each part that can hold tags, joins the text of the runs of
 * each paragraph so that tags Word split across runs are found, moves each
 * tag into the run where it starts (whose formatting the value takes), marks
 * what repeats (a paragraph, a table row, or the paragraphs between two
 * tag-only paragraphs), and compiles the part into a flat list of segments.
 * Every tag can be checked against the fields of its kind. docProps/core.xml
 * takes value tags in its text; XML comments are dropped from every part.
 * Rendering is then a walk over the segments and the data: no XML parsing,
 * a value with inline marks splits into runs in its run's look, and the
 * parts without tags or comments are copied into the new package still
 * compressed.
 */
#include "render.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/tree.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "fsutil.h"
#include "hash.h"
#include "xmlin.h"

#define W_NS "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define MARK_OPEN "\xEE\x80\x80"   /* U+E000: starts a field marker in compiled text */
#define MARK_CLOSE "\xEE\x80\x81"  /* U+E001 */
#define MAX_DEPTH 32
/*
 * A filled part is at most this many bytes: sections nested in sections over
 * lists multiply, and a template looping 12 deep over six items would
 * otherwise write billions of paragraphs (found by fuzzing: a hang, then no
 * memory). A real document's body is a few MiB at most.
 */
#define MAX_PART_OUTPUT (64 * 1024 * 1024)

enum seg_kind { SEG_TEXT, SEG_FIELD, SEG_BEGIN, SEG_END };

struct seg {
	enum seg_kind kind;
	size_t off, len;     /* SEG_TEXT: bytes of the compiled part */
	char **path;         /* owned: the dotted name split; NULL for "." */
	int npath;
	int inverted;        /* {{^x}} */
	int plain;           /* FIELD in a part that is not WordprocessingML: a newline is a space */
	char *rpr[4];        /* FIELD, owned: the run's w:rPr plain, bold, italic, bold italic (rich values) */
	size_t match;        /* BEGIN: index of its END; END: index of its BEGIN */
};

struct part {
	char *name;          /* owned: "word/document.xml" */
	zip_uint64_t index;  /* in the template package */
	char *xml;           /* owned: the compiled XML */
	size_t xml_len;
	struct seg *segs;    /* owned */
	size_t nsegs;
};

struct render_template {
	char *name;          /* owned */
	void *data;          /* owned: the package bytes */
	size_t len;
	zip_t *zip;          /* owned: opened over data, read-only */
	struct part *parts;  /* owned */
	size_t nparts;
};

/* ---- loading ---- */

struct tag {
	char kind;           /* '#', '^', '/', or 0 for a value */
	char *name;          /* owned, trimmed */
	xmlNodePtr para;     /* the paragraph holding it */
	int para_no;         /* 1-based, for messages */
	int only;            /* the paragraph holds nothing but this tag */
	int field_no;        /* value tags: the marker number */
	int line;            /* a tag outside a paragraph (docProps/core.xml): its line */
	char *rpr[4];        /* owned until segment() takes them: see struct seg */
};

struct compile {
	const char *part;
	struct diag_list *errs;
	int bad;
	struct tag *tags;
	size_t ntags, cap;
	int para_no;
	int fields;
	struct { xmlNodePtr para; size_t open; } units[512];  /* paragraph units marked so far */
	size_t nunits;
	int plain;           /* a part that is not WordprocessingML (docProps/core.xml) */
};

static int is_w(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	    strcmp((const char *)n->ns->href, W_NS) == 0 && strcmp((const char *)n->name, name) == 0;
}

/* The w:t elements of a paragraph in order, not descending into nested paragraphs. */
static void collect_t(xmlNodePtr n, xmlNodePtr **ts, size_t *nt, size_t *cap)
{
	for (xmlNodePtr c = n->children; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		if (is_w(c, "t")) {
			if (*nt == *cap) {
				size_t nc = *cap ? *cap * 2 : 16;
				xmlNodePtr *p = realloc(*ts, nc * sizeof(*p));
				if (p == NULL)
					return;
				*ts = p;
				*cap = nc;
			}
			(*ts)[(*nt)++] = c;
		} else if (!is_w(c, "p") && !is_w(c, "txbxContent") && !is_w(c, "delText")) {
			collect_t(c, ts, nt, cap);
		}
	}
}

static char *node_text(xmlNodePtr t)
{
	xmlChar *v = xmlNodeGetContent(t);
	char *s = strdup(v ? (const char *)v : "");

	xmlFree(v);
	return s;
}

static void add_tag(struct compile *c, char kind, const char *name, size_t nlen, xmlNodePtr para,
    int only)
{
	struct tag *t;

	if (c->ntags == c->cap) {
		size_t nc = c->cap ? c->cap * 2 : 32;
		struct tag *p = realloc(c->tags, nc * sizeof(*p));
		if (p == NULL)
			return;
		c->tags = p;
		c->cap = nc;
	}
	t = &c->tags[c->ntags++];
	t->kind = kind;
	t->name = strndup(name, nlen);
	t->para = para;
	t->para_no = c->para_no;
	t->only = only;
	t->field_no = kind == 0 ? c->fields++ : -1;
	t->line = 0;
	memset(t->rpr, 0, sizeof(t->rpr));
}

/* The order of a run property in CT_RPr, as far as the inline formatting needs it. */
static int rpr_rank(xmlNodePtr n)
{
	static const char *const names[] = { "rStyle", "rFonts", "b", "bCs", "i", "iCs" };

	for (int k = 0; k < 6; k++)
		if (is_w(n, names[k]))
			return k;
	return 6;
}

/*
 * The w:rPr of run with bold and/or italic set, in the order ECMA-376 wants,
 * every other property kept (its font and size): the runs a rich value splits
 * into look like the template's run. malloc'd; NULL: no memory.
 */
static char *rpr_variant(xmlNodePtr run, int bold, int italic)
{
	const char *pfx = run->ns && run->ns->prefix ? (const char *)run->ns->prefix : NULL;
	char b[64], i[64], open[32], close[32];
	xmlNodePtr rpr = NULL;
	xmlBufferPtr buf = xmlBufferCreate();
	int need_b = bold, need_i = italic;
	char *out;

	if (buf == NULL)
		return NULL;
	for (xmlNodePtr c = run->children; c; c = c->next)
		if (is_w(c, "rPr"))
			rpr = c;
	snprintf(b, sizeof(b), "<%s%sb/><%s%sbCs/>", pfx ? pfx : "", pfx ? ":" : "", pfx ? pfx : "",
	    pfx ? ":" : "");
	snprintf(i, sizeof(i), "<%s%si/><%s%siCs/>", pfx ? pfx : "", pfx ? ":" : "", pfx ? pfx : "",
	    pfx ? ":" : "");
	snprintf(open, sizeof(open), "<%s%srPr>", pfx ? pfx : "", pfx ? ":" : "");
	snprintf(close, sizeof(close), "</%s%srPr>", pfx ? pfx : "", pfx ? ":" : "");
	xmlBufferCCat(buf, open);
	for (xmlNodePtr c = rpr ? rpr->children : NULL; c; c = c->next) {
		if (c->type != XML_ELEMENT_NODE)
			continue;
		int r = rpr_rank(c);
		if ((bold && (r == 2 || r == 3)) || (italic && (r == 4 || r == 5)))
			continue;
		if (need_b && r > 3) {
			xmlBufferCCat(buf, b);
			need_b = 0;
		}
		if (need_i && r > 5) {
			xmlBufferCCat(buf, i);
			need_i = 0;
		}
		xmlNodeDump(buf, run->doc, c, 0, 0);
	}
	if (need_b)
		xmlBufferCCat(buf, b);
	if (need_i)
		xmlBufferCCat(buf, i);
	xmlBufferCCat(buf, close);
	out = strdup((const char *)xmlBufferContent(buf));
	xmlBufferFree(buf);
	return out;
}

/* The four looks of a value's run, for the inline bold and italic of a rich value. */
static void tag_rpr(struct tag *t, xmlNodePtr wt)
{
	xmlNodePtr run = wt ? wt->parent : NULL;

	if (run == NULL || !is_w(run, "r"))
		return;
	for (int k = 0; k < 4; k++)
		t->rpr[k] = rpr_variant(run, k & 1, k & 2);
}

/*
 * Finds the tags of one paragraph and rewrites its runs: each tag's text
 * moves into the w:t where it starts (a value becomes a marker, a section tag
 * vanishes), and the text it took from later runs is removed.
 */
static void scan_paragraph(struct compile *c, xmlNodePtr p)
{
	xmlNodePtr *ts = NULL;
	size_t nt = 0, cap = 0, total = 0;
	char **texts = NULL, *joined = NULL;
	size_t *starts = NULL;

	c->para_no++;
	collect_t(p, &ts, &nt, &cap);
	if (nt == 0)
		goto out;
	texts = calloc(nt, sizeof(char *));
	starts = calloc(nt + 1, sizeof(size_t));
	if (texts == NULL || starts == NULL)
		goto out;
	for (size_t i = 0; i < nt; i++) {
		texts[i] = node_text(ts[i]);
		if (texts[i] == NULL)
			goto out;
		starts[i] = total;
		total += strlen(texts[i]);
	}
	starts[nt] = total;
	joined = malloc(total + 1);
	if (joined == NULL)
		goto out;
	joined[0] = '\0';
	for (size_t i = 0; i < nt; i++)
		strcat(joined, texts[i]);
	if (strstr(joined, MARK_OPEN) || strstr(joined, MARK_CLOSE)) {
		diag_add(c->errs, c->part, c->para_no, "đoạn %d có ký tự dành riêng của "
		    "vanthu (U+E000 hoặc U+E001)", c->para_no);
		c->bad++;
		goto out;
	}
	if (strstr(joined, "{{") == NULL && strstr(joined, "}}") == NULL)
		goto out;

	/* the new text of each w:t, built as the tags are found */
	char **out = calloc(nt, sizeof(char *));
	size_t *olen = calloc(nt, sizeof(size_t));
	if (out == NULL || olen == NULL) {
		free(out);
		free(olen);
		goto out;
	}
	/*
	 * A value marker (up to 16 bytes) can be longer than its tag ("{{a}}" is 5),
	 * and every tag's marker lands in the run where it starts: room for all.
	 */
	for (size_t i = 0; i < nt; i++)
		out[i] = calloc(1, strlen(texts[i]) + 4 * total + 64);
	size_t first_tag = c->ntags, pos = 0, seen_tags = 0;
	int trailing_text = 0;
	while (pos < total) {
		char *open = strstr(joined + pos, "{{");
		char *close = strstr(joined + pos, "}}");
		size_t end = open ? (size_t)(open - joined) : total;
		if (close && (!open || close < open)) {
			diag_add(c->errs, c->part, c->para_no, "đoạn %d: \"}}\" không có \"{{\" mở trước",
			    c->para_no);
			c->bad++;
			break;
		}
		/* plain text up to the next tag, kept where it was */
		for (size_t i = 0; i < nt; i++) {
			size_t a = starts[i] > pos ? starts[i] : pos;
			size_t b = starts[i + 1] < end ? starts[i + 1] : end;
			if (a < b && out[i]) {
				memcpy(out[i] + olen[i], joined + a, b - a);
				olen[i] += b - a;
			}
		}
		for (size_t k = pos; k < end; k++)
			if (joined[k] != ' ' && joined[k] != '\t')
				trailing_text = 1;
		if (!open)
			break;
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			size_t cut = strlen(open) < 20 ? strlen(open) : 20;
			while (cut > 0 && ((unsigned char)open[cut] & 0xC0) == 0x80)
				cut--;  /* never half a character */
			diag_add(c->errs, c->part, c->para_no, "đoạn %d: thẻ \"%.*s\" không được đóng "
			    "trong đoạn của nó (một thẻ không được trải qua nhiều đoạn)", c->para_no, (int)cut, open);
			c->bad++;
			break;
		}
		const char *name = open + 2;
		size_t nlen = (size_t)(close - name);
		while (nlen && (*name == ' '))
			name++, nlen--;
		char kind = 0;
		if (nlen && (*name == '#' || *name == '^' || *name == '/')) {
			kind = *name;
			name++;
			nlen--;
		}
		while (nlen && (*name == ' '))
			name++, nlen--;
		while (nlen && name[nlen - 1] == ' ')
			nlen--;
		int valid = nlen > 0 && nlen < 128;
		for (size_t k = 0; k < nlen && valid; k++)
			valid = (unsigned char)name[k] >= 0x80 || (name[k] >= 'a' && name[k] <= 'z') ||
			    (name[k] >= 'A' && name[k] <= 'Z') || (name[k] >= '0' && name[k] <= '9') ||
			    name[k] == '_' || name[k] == '.' || name[k] == '-';
		if (!valid) {
			diag_add(c->errs, c->part, c->para_no, "đoạn %d: \"%.*s\" không phải là tên thẻ",
			    c->para_no, (int)(close - open + 2) > 60 ? 60 : (int)(close - open + 2), open);
			c->bad++;
		} else {
			add_tag(c, kind, name, nlen, p, 0);
		}
		seen_tags++;
		/* the marker goes into the w:t where the tag starts */
		size_t at = (size_t)(open - joined);
		for (size_t i = 0; i < nt; i++) {
			if (at >= starts[i] && at < starts[i + 1] && out[i]) {
				if (valid && kind == 0) {
					int n = sprintf(out[i] + olen[i], MARK_OPEN "%d" MARK_CLOSE,
					    c->tags[c->ntags - 1].field_no);
					olen[i] += (size_t)n;
					tag_rpr(&c->tags[c->ntags - 1], ts[i]);
				}
				xmlSetProp(ts[i], (const xmlChar *)"xml:space", (const xmlChar *)"preserve");
				break;
			}
		}
		pos = (size_t)(close + 2 - joined);
	}
	/* a paragraph that holds one tag and nothing else */
	if (seen_tags == 1 && !trailing_text && c->ntags == first_tag + 1)
		c->tags[first_tag].only = 1;
	for (size_t i = 0; i < nt; i++) {
		if (out[i] == NULL)
			continue;
		out[i][olen[i]] = '\0';
		xmlNodeSetContentLen(ts[i], NULL, 0);
		xmlNodeAddContentLen(ts[i], (const xmlChar *)out[i], (int)olen[i]);
		/* text cut off from a tag may now start or end with a space: keep it */
		xmlSetProp(ts[i], (const xmlChar *)"xml:space", (const xmlChar *)"preserve");
		free(out[i]);
	}
	free(out);
	free(olen);
out:
	for (size_t i = 0; texts && i < nt; i++)
		free(texts[i]);
	free(texts);
	free(starts);
	free(joined);
	free(ts);
}

static void walk_paragraphs(struct compile *c, xmlNodePtr n)
{
	for (xmlNodePtr ch = n->children; ch; ch = ch->next) {
		if (ch->type != XML_ELEMENT_NODE)
			continue;
		if (is_w(ch, "p")) {
			scan_paragraph(c, ch);
			walk_paragraphs(c, ch);  /* text boxes inside runs */
		} else {
			walk_paragraphs(c, ch);
		}
	}
}

static xmlNodePtr ancestor_w(xmlNodePtr n, const char *name)
{
	for (n = n ? n->parent : NULL; n; n = n->parent)
		if (is_w(n, name))
			return n;
	return NULL;
}

/* Is n the node anc or inside it? */
static int inside(xmlNodePtr n, xmlNodePtr anc)
{
	for (; n != NULL; n = n->parent)
		if (n == anc)
			return 1;
	return 0;
}

static xmlNodePtr make_pi(xmlDocPtr doc, char what, size_t section)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%c %zu", what, section);
	return xmlNewDocPI(doc, (const xmlChar *)"vt", (const xmlChar *)buf);
}

/* A marker of a section opened after tag index `after` (so nested inside it). */
static int vt_inner(xmlNodePtr n, size_t after)
{
	if (n->type != XML_PI_NODE || strcmp((const char *)n->name, "vt") != 0 || n->content == NULL)
		return 0;
	return (size_t)strtoul((const char *)n->content + 2, NULL, 10) > after;
}

/* Pairs the section tags and marks what each repeats. */
static void structure(struct compile *c, xmlDocPtr doc)
{
	size_t stack[MAX_DEPTH], depth = 0;
	size_t section = 0;

	for (size_t i = 0; i < c->ntags; i++) {
		struct tag *t = &c->tags[i];
		if (t->kind == '#' || t->kind == '^') {
			if (depth == MAX_DEPTH) {
				diag_add(c->errs, c->part, t->para_no, "đoạn %d: các phần lồng nhau sâu "
				    "quá %d mức", t->para_no, MAX_DEPTH);
				c->bad++;
				return;
			}
			stack[depth++] = i;
		} else if (t->kind == '/') {
			if (depth == 0) {
				diag_add(c->errs, c->part, t->para_no, "đoạn %d: {{/%s}} không đóng phần nào",
				    t->para_no, t->name);
				c->bad++;
				continue;
			}
			struct tag *o = &c->tags[stack[depth - 1]];
			if (strcmp(o->name, t->name) != 0) {
				diag_add(c->errs, c->part, t->para_no, "đoạn %d: {{/%s}} lại đóng {{%c%s}} "
				    "của đoạn %d", t->para_no, t->name, o->kind, o->name, o->para_no);
				c->bad++;
				depth--;
				continue;
			}
			depth--;
			/* a section in a text box of a tag-only paragraph was removed with it */
			if (o->para == NULL || t->para == NULL)
				continue;
			int marking = c->bad == 0;  /* after an error: check, but change nothing */
			xmlNodePtr first, last;
			int remove_ends = 0;
			if (o->para == t->para) {
				first = last = o->para;
			} else {
				xmlNodePtr ro = ancestor_w(o->para, "tr"), rt = ancestor_w(t->para, "tr");
				if (o->para->parent == t->para->parent && o->only && t->only) {
					/* two tag-only paragraphs side by side (also inside one cell) */
					first = o->para;
					last = t->para;
					remove_ends = 1;
				} else if (ro != NULL && ro == rt) {
					first = last = ro;
				} else {
					diag_add(c->errs, c->part, o->para_no, "đoạn %d: {{%c%s}} và {{/%s}} của nó "
					    "(đoạn %d) phải cùng một đoạn hoặc một hàng bảng, hoặc mỗi thẻ đứng "
					    "riêng một đoạn cùng cấp", o->para_no, o->kind,
					    o->name, t->name, t->para_no);
					c->bad++;
					continue;
				}
			}
			section = stack[depth];
			if (o->para == t->para) {
				/* two sections one after the other in one paragraph cannot both repeat it */
				for (size_t k = 0; k < c->nunits; k++)
					if (c->units[k].para == o->para && c->units[k].open < section) {
						diag_add(c->errs, c->part, o->para_no, "đoạn %d: {{%c%s}} và một phần "
						    "trước nó cùng lặp lại đoạn này; hãy đặt mỗi phần vào một "
						    "đoạn riêng", o->para_no, o->kind, o->name);
						c->bad++;
						marking = 0;
					}
				if (c->nunits < sizeof(c->units) / sizeof(c->units[0])) {
					c->units[c->nunits].para = o->para;
					c->units[c->nunits++].open = section;
				}
			}
			if (!marking)
				continue;
			/* the section's number rides in the PI; the BEGIN carries the tag's index */
			xmlNodePtr b = make_pi(doc, o->kind == '^' ? 'n' : 's', section);
			xmlNodePtr e = make_pi(doc, 'e', section);
			if (b == NULL || e == NULL) {
				c->bad++;
				continue;
			}
			if (remove_ends) {
				xmlAddPrevSibling(first, b);
				xmlAddNextSibling(last, e);
				/*
				 * The paragraphs go, with the text boxes they hold: no later tag may point at
				 * them or into them (found by fuzzing: a use after free).
				 */
				for (size_t k = 0; k < c->ntags; k++)
					if (inside(c->tags[k].para, first) || inside(c->tags[k].para, last))
						c->tags[k].para = NULL;
				xmlUnlinkNode(first);
				xmlFreeNode(first);
				xmlUnlinkNode(last);
				xmlFreeNode(last);
			} else {
				/* sections nested in this one were closed (and marked) first: stay outside them */
				while (first->prev && vt_inner(first->prev, section))
					first = first->prev;
				while (last->next && vt_inner(last->next, section))
					last = last->next;
				xmlAddPrevSibling(first, b);
				xmlAddNextSibling(last, e);
			}
		}
	}
	for (size_t k = 0; k < depth; k++) {
		struct tag *o = &c->tags[stack[k]];
		diag_add(c->errs, c->part, o->para_no, "đoạn %d: {{%c%s}} không được đóng",
		    o->para_no, o->kind, o->name);
		c->bad++;
	}
}

/* Where a tag is, for a message: "đoạn 7" (paragraph), or "dòng 4" (line) outside WordprocessingML. */
static const char *tag_where(const struct tag *t, char *buf, size_t len)
{
	if (t->line > 0)
		snprintf(buf, len, "dòng %d", t->line);
	else
		snprintf(buf, len, "đoạn %d", t->para_no);
	return buf;
}

/* The edit distance of two names, capped at 3 (enough to suggest a field for a typo). */
static int distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int row[130], prev;

	if (la > 128 || lb > 128)
		return 3;
	if (la > lb + 2 || lb > la + 2)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cur = row[j], best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = cur;
		}
	}
	return row[lb] < 3 ? row[lb] : 3;
}

/* A field of the data the way rendering finds it: the first name in the innermost
 * context that has it, then down the dotted path. */
static json_t *shape_lookup(json_t *const *ctx, int depth, const char *name)
{
	char first[128];
	const char *dot = strchr(name, '.');
	size_t n = dot ? (size_t)(dot - name) : strlen(name);

	if (n >= sizeof(first))
		return NULL;
	memcpy(first, name, n);
	first[n] = '\0';
	for (int d = depth - 1; d >= 0; d--) {
		json_t *v = json_is_object(ctx[d]) ? json_object_get(ctx[d], first) : NULL;
		if (v == NULL)
			continue;
		while (dot && v) {
			const char *next = strchr(dot + 1, '.');
			size_t k = next ? (size_t)(next - dot - 1) : strlen(dot + 1);
			if (k >= sizeof(first))
				return NULL;
			memcpy(first, dot + 1, k);
			first[k] = '\0';
			v = json_is_object(v) ? json_object_get(v, first) : NULL;
			dot = next;
		}
		return v;
	}
	return NULL;
}

/* The closest known name in the contexts (also "signer.name" one level down), for
 * "did you mean"; "" when none is close. */
static const char *suggest(json_t *const *ctx, int depth, const char *name, char *buf,
    size_t len)
{
	const char *key;
	json_t *v;
	int bd = 3;

	buf[0] = '\0';
	for (int d = depth - 1; d >= 0; d--) {
		if (!json_is_object(ctx[d]))
			continue;
		json_object_foreach(ctx[d], key, v) {
			int dd = distance(name, key);
			if (dd < bd) {
				bd = dd;
				snprintf(buf, len, "%s", key);
			}
			const char *k2;
			json_t *v2;
			if (!json_is_object(v))
				continue;
			json_object_foreach(v, k2, v2) {
				char full[260];
				snprintf(full, sizeof(full), "%s.%s", key, k2);
				dd = distance(name, full);
				if (dd < bd) {
					bd = dd;
					snprintf(buf, len, "%s", full);
				}
			}
		}
	}
	return buf;
}

/*
 * Every tag against the fields its kind receives (fields: an object shaped as
 * the data, one item per list; see docdata_fields). An unknown name, a value
 * tag on a list, and {{.}} where the item is not a string are errors, each with
 * its part and place; all of them are listed.
 */
static void check_fields(struct compile *c, json_t *fields, const char *label)
{
	json_t *ctx[MAX_DEPTH * 2 + 2];
	int pushed[MAX_DEPTH * 2 + 2];
	int depth = 1, open = 0;
	char where[48];

	ctx[0] = fields;
	for (size_t i = 0; i < c->ntags; i++) {
		struct tag *t = &c->tags[i];
		if (t->kind == '/') {
			if (open > 0 && pushed[--open])
				depth--;
			continue;
		}
		if (t->kind == 0 && strcmp(t->name, ".") == 0) {
			if (depth < 2 || !json_is_string(ctx[depth - 1])) {
				diag_add(c->errs, c->part, t->para_no, "%s: {{.}} là mục của một danh sách "
				    "chuỗi, ở đây không có danh sách chuỗi nào đang mở", tag_where(t, where,
				    sizeof(where)));
				c->bad++;
			}
			continue;
		}
		json_t *v = shape_lookup(ctx, depth, t->name);
		if (v == NULL) {
			char near[260], kind[2] = { t->kind, '\0' };
			suggest(ctx, depth, t->name, near, sizeof(near));
			diag_add(c->errs, c->part, t->para_no, "%s: {{%s%s}} không phải là trường của %s%s%s%s",
			    tag_where(t, where, sizeof(where)), kind, t->name, label,
			    near[0] ? " (có phải là {{" : "", near, near[0] ? "}}?)" : "");
			c->bad++;
		} else if (t->kind == 0 && (json_is_array(v) || json_is_object(v))) {
			diag_add(c->errs, c->part, t->para_no, "%s: {{%s}} là một %s, không phải một giá trị: "
			    "mở nó bằng {{#%s}}", tag_where(t, where, sizeof(where)), t->name,
			    json_is_array(v) ? "danh sách" : "nhóm", t->name);
			c->bad++;
		}
		if (t->kind == '#' || t->kind == '^') {
			int push = 0;
			if (open >= MAX_DEPTH * 2)
				return;  /* structure() has said so */
			if (t->kind == '#' && json_is_array(v)) {
				ctx[depth++] = json_array_get(v, 0);
				push = 1;
			} else if (t->kind == '#' && json_is_object(v)) {
				ctx[depth++] = v;
				push = 1;
			}
			pushed[open++] = push;
		}
	}
}

/* XML comments are the template's notes: none reaches an issued document. */
static void strip_comments(xmlNodePtr n)
{
	while (n != NULL) {
		xmlNodePtr next = n->next;
		if (n->type == XML_COMMENT_NODE) {
			xmlUnlinkNode(n);
			xmlFreeNode(n);
		} else if (n->type == XML_ELEMENT_NODE) {
			strip_comments(n->children);
		}
		n = next;
	}
}

/*
 * Value tags in the text of a part that is not WordprocessingML
 * (docProps/core.xml: the title, author and dates): each becomes a marker in
 * its text node; sections have no meaning there.
 */
static void scan_text_nodes(struct compile *c, xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		if (n->type == XML_ELEMENT_NODE) {
			scan_text_nodes(c, n->children);
			continue;
		}
		if (n->type != XML_TEXT_NODE || n->content == NULL ||
		    strstr((const char *)n->content, "{{") == NULL)
			continue;
		const char *s = (const char *)n->content;
		size_t cap = strlen(s) * 4 + 64, ol = 0;
		char *out = malloc(cap);
		if (out == NULL) {
			c->bad++;
			return;
		}
		while (*s) {
			const char *open = strstr(s, "{{"), *close = open ? strstr(open + 2, "}}") : NULL;
			if (open == NULL || close == NULL) {
				if (open != NULL) {
					diag_add(c->errs, c->part, (int)xmlGetLineNo(n), "dòng %ld: một thẻ không được "
					    "đóng", xmlGetLineNo(n));
					c->bad++;
				}
				ol += (size_t)snprintf(out + ol, cap - ol, "%s", s);
				break;
			}
			memcpy(out + ol, s, (size_t)(open - s));
			ol += (size_t)(open - s);
			const char *name = open + 2;
			size_t nlen = (size_t)(close - name);
			while (nlen && *name == ' ')
				name++, nlen--;
			while (nlen && name[nlen - 1] == ' ')
				nlen--;
			int valid = nlen > 0 && nlen < 128;
			for (size_t k = 0; k < nlen && valid; k++)
				valid = (name[k] >= 'a' && name[k] <= 'z') || (name[k] >= 'A' && name[k] <= 'Z') ||
				    (name[k] >= '0' && name[k] <= '9') || name[k] == '_' || name[k] == '.';
			if (!valid) {
				diag_add(c->errs, c->part, (int)xmlGetLineNo(n), "dòng %ld: \"%.*s\" không phải "
				    "thẻ giá trị (khối chỉ dùng được trong các đoạn văn của văn bản)", xmlGetLineNo(n),
				    (int)(close - open + 2) > 60 ? 60 : (int)(close - open + 2), open);
				c->bad++;
			} else {
				add_tag(c, 0, name, nlen, NULL, 0);
				c->tags[c->ntags - 1].line = (int)xmlGetLineNo(n);
				ol += (size_t)snprintf(out + ol, cap - ol, MARK_OPEN "%d" MARK_CLOSE,
				    c->tags[c->ntags - 1].field_no);
			}
			s = close + 2;
		}
		out[ol] = '\0';
		xmlNodeSetContent(n, NULL);
		xmlNodeAddContentLen(n, (const xmlChar *)out, (int)ol);
		free(out);
	}
}

/*
 * Whether nodes (and what they hold) carry what the compiled part reserves
 * for itself: U+E000 or U+E001 anywhere (text outside w:t, attributes,
 * comments), or a <?vt?> instruction, also one a comment or another
 * instruction would write out as such. Compiled, either would be taken for a
 * field marker or a section boundary.
 */
static int holds_reserved(xmlNodePtr n)
{
	for (; n != NULL; n = n->next) {
		const char *text = (const char *)n->content;
		if (n->type == XML_PI_NODE && n->name != NULL && strcmp((const char *)n->name, "vt") == 0)
			return 1;
		if (text != NULL && (strstr(text, MARK_OPEN) != NULL || strstr(text, MARK_CLOSE) != NULL))
			return 1;
		if (text != NULL && (n->type == XML_COMMENT_NODE || n->type == XML_PI_NODE) &&
		    strstr(text, "<?vt") != NULL)
			return 1;
		if (n->type == XML_ELEMENT_NODE) {
			for (xmlAttrPtr a = n->properties; a != NULL; a = a->next)
				if (holds_reserved(a->children))
					return 1;
			if (holds_reserved(n->children))
				return 1;
		}
	}
	return 0;
}

static int split_path(const char *name, char ***path, int *npath)
{
	char *copy, *save = NULL;
	int n = 1;

	*path = NULL;
	*npath = 0;
	if (strcmp(name, ".") == 0)
		return 0;
	for (const char *p = name; *p; p++)
		n += *p == '.';
	*path = calloc((size_t)n, sizeof(char *));
	copy = strdup(name);
	if (*path == NULL || copy == NULL) {
		free(copy);
		return -1;
	}
	for (char *tok = strtok_r(copy, ".", &save); tok; tok = strtok_r(NULL, ".", &save))
		(*path)[(*npath)++] = strdup(tok);
	free(copy);
	return 0;
}

static int add_seg(struct part *p, size_t *cap, struct seg s)
{
	if (p->nsegs == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct seg *q = realloc(p->segs, nc * sizeof(*q));
		if (q == NULL)
			return -1;
		p->segs = q;
		*cap = nc;
	}
	p->segs[p->nsegs++] = s;
	return 0;
}

/* The compiled XML into segments: text, value markers, section PIs. */
static int segment(struct part *p, const struct compile *c)
{
	size_t cap = 0, pos = 0, stack[MAX_DEPTH], depth = 0;
	const char *x = p->xml;

	while (pos < p->xml_len) {
		const char *pi = strstr(x + pos, "<?vt ");
		const char *mk = strstr(x + pos, MARK_OPEN);
		const char *next = pi && (!mk || pi < mk) ? pi : mk;
		size_t end = next ? (size_t)(next - x) : p->xml_len;
		if (end > pos && add_seg(p, &cap, (struct seg){ .kind = SEG_TEXT, .off = pos,
		        .len = end - pos }) != 0)
			return -1;
		if (next == NULL)
			break;
		if (next == mk) {
			int no = atoi(mk + 3);
			const char *stop = strstr(mk, MARK_CLOSE);
			struct seg s = { .kind = SEG_FIELD, .plain = c->plain };
			if (stop == NULL)
				return -1;
			for (size_t k = 0; k < c->ntags; k++) {
				if (c->tags[k].field_no != no)
					continue;
				if (split_path(c->tags[k].name, &s.path, &s.npath) != 0)
					return -1;
				/* the segment owns the run's looks from here */
				memcpy(s.rpr, c->tags[k].rpr, sizeof(s.rpr));
				memset(c->tags[k].rpr, 0, sizeof(c->tags[k].rpr));
			}
			if (add_seg(p, &cap, s) != 0)
				return -1;
			pos = (size_t)(stop + 3 - x);
		} else {
			char what = pi[5];
			size_t tagi = (size_t)strtoul(pi + 7, NULL, 10);
			const char *stop = strstr(pi, "?>");
			if (stop == NULL)
				return -1;
			if (what == 'e') {
				if (depth == 0)
					return -1;
				size_t b = stack[--depth];
				p->segs[b].match = p->nsegs;
				if (add_seg(p, &cap, (struct seg){ .kind = SEG_END, .match = b }) != 0)
					return -1;
			} else {
				struct seg s = { .kind = SEG_BEGIN, .inverted = what == 'n' };
				if (tagi >= c->ntags || split_path(c->tags[tagi].name, &s.path, &s.npath) != 0)
					return -1;
				if (depth == MAX_DEPTH)
					return -1;
				stack[depth++] = p->nsegs;
				if (add_seg(p, &cap, s) != 0)
					return -1;
			}
			pos = (size_t)(stop + 2 - x);
		}
	}
	return depth == 0 ? 0 : -1;
}

enum part_mode { PART_WML, PART_PROPS, PART_OTHER };

static int is_tag_part(const char *name)
{
	return strcmp(name, "word/document.xml") == 0 ||
	    (strncmp(name, "word/header", 11) == 0 && strstr(name, ".xml") && !strchr(name + 5, '/')) ||
	    (strncmp(name, "word/footer", 11) == 0 && strstr(name, ".xml") && !strchr(name + 5, '/'));
}

static int ends_in(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n >= k && strcmp(s + n - k, tail) == 0;
}

/* What a package entry is to the engine; -1: not XML, copied as it is. */
static int part_mode_of(const char *name)
{
	if (is_tag_part(name))
		return PART_WML;
	if (strcmp(name, "docProps/core.xml") == 0)
		return PART_PROPS;
	if (ends_in(name, ".xml") || ends_in(name, ".rels"))
		return PART_OTHER;
	return -1;
}

static void free_part(struct part *p)
{
	free(p->name);
	free(p->xml);
	for (size_t i = 0; i < p->nsegs; i++) {
		for (int k = 0; k < p->segs[i].npath; k++)
			free(p->segs[i].path[k]);
		free(p->segs[i].path);
		for (int k = 0; k < 4; k++)
			free(p->segs[i].rpr[k]);
	}
	free(p->segs);
}

static int compile_part(struct render_template *t, zip_uint64_t idx, const char *name,
    enum part_mode mode, json_t *fields, const char *label, struct diag_list *errs)
{
	char where[PATH_MAX + 64];
	struct compile c = { .part = where, .errs = errs, .plain = mode == PART_PROPS };
	struct part *p = &t->parts[t->nparts];
	zip_stat_t st;
	zip_file_t *zf = NULL;
	char *raw = NULL;
	xmlDocPtr doc = NULL;
	xmlChar *dump = NULL;
	int dumplen = 0, rc = -1;

	memset(p, 0, sizeof(*p));
	snprintf(where, sizeof(where), "%s:%s", t->name, name);  /* thong-bao.docx:word/document.xml */
	if (zip_stat_index(t->zip, idx, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
	    st.size > 64 * 1024 * 1024) {
		diag_add(errs, t->name, 0, "%s: không đọc được phần này trong tệp DOCX", name);
		return -1;
	}
	raw = malloc(st.size + 1);
	zf = zip_fopen_index(t->zip, idx, 0);
	if (raw == NULL || zf == NULL || zip_fread(zf, raw, st.size) != (zip_int64_t)st.size) {
		diag_add(errs, t->name, 0, "%s: không đọc được phần này trong tệp DOCX", name);
		goto out;
	}
	/* a part without tags is copied as it is stored, unless it holds comments to strip */
	if (mode == PART_OTHER && memmem(raw, st.size, "<!--", 4) == NULL) {
		rc = 1;
		goto out;
	}
	if (xmlin_parse(raw, st.size, name, &doc, errs) != 0) {
		diag_add(errs, t->name, 0, "%s không phải XML đúng cú pháp", name);
		goto out;
	}
	if (holds_reserved(doc->children)) {
		diag_add(errs, t->name, 0, "%s có ký tự dành riêng của vanthu "
		    "(U+E000 hoặc U+E001) hoặc chỉ thị <?vt?>", name);
		goto out;
	}
	strip_comments(doc->children);
	if (mode == PART_WML) {
		walk_paragraphs(&c, xmlDocGetRootElement(doc));
		/* sections are checked even after a bad tag, so that every error is listed at once */
		structure(&c, doc);
	} else if (mode == PART_PROPS) {
		scan_text_nodes(&c, xmlDocGetRootElement(doc));
	}
	/* and every name against the kind's fields, whatever else is wrong */
	if (fields != NULL)
		check_fields(&c, fields, label);
	if (c.bad)
		goto out;
	xmlDocDumpMemoryEnc(doc, &dump, &dumplen, "UTF-8");
	if (dump == NULL)
		goto out;
	p->name = strdup(name);
	p->xml = malloc((size_t)dumplen + 1);
	if (p->name == NULL || p->xml == NULL)
		goto out;
	memcpy(p->xml, dump, (size_t)dumplen);
	p->xml[dumplen] = '\0';
	p->xml_len = (size_t)dumplen;
	p->index = idx;
	if (segment(p, &c) != 0) {
		diag_add(errs, t->name, 0, "%s: lỗi nội bộ khi dịch mẫu", name);
		goto out;
	}
	t->nparts++;
	rc = 0;
out:
	if (rc != 0)
		free_part(p);
	if (rc > 0)
		rc = 0;
	for (size_t i = 0; i < c.ntags; i++) {
		free(c.tags[i].name);
		for (int k = 0; k < 4; k++)
			free(c.tags[i].rpr[k]);
	}
	free(c.tags);
	xmlFree(dump);
	xmlFreeDoc(doc);
	if (zf)
		zip_fclose(zf);
	free(raw);
	return rc;
}

int render_load_memory(const char *name, const void *data, size_t len,
    struct render_template **out, struct diag_list *errs)
{
	return render_load_memory_fields(name, data, len, NULL, NULL, out, errs);
}

int render_load_memory_fields(const char *name, const void *data, size_t len, json_t *fields,
    const char *label, struct render_template **out, struct diag_list *errs)
{
	struct render_template *t = calloc(1, sizeof(*t));
	zip_source_t *src = NULL;
	zip_error_t zerr;
	zip_int64_t n;
	size_t before = errs->count;

	*out = NULL;
	if (t == NULL || (t->name = strdup(name)) == NULL || (t->data = malloc(len ? len : 1)) == NULL) {
		diag_add(errs, name, 0, "hết bộ nhớ");
		render_free(t);
		return -1;
	}
	if (len == 0) {
		diag_add(errs, name, 0, "không phải tệp DOCX: tệp rỗng");
		render_free(t);
		return -1;
	}
	memcpy(t->data, data, len);
	t->len = len;
	zip_error_init(&zerr);
	src = zip_source_buffer_create(t->data, len, 0, &zerr);
	if (src == NULL || (t->zip = zip_open_from_source(src, ZIP_RDONLY | ZIP_CHECKCONS, &zerr)) ==
	    NULL) {
		diag_add(errs, name, 0, "không phải tệp DOCX: %s", zip_error_strerror(&zerr));
		zip_source_free(src);
		zip_error_fini(&zerr);
		render_free(t);
		return -1;
	}
	zip_error_fini(&zerr);
	n = zip_get_num_entries(t->zip, 0);
	t->parts = calloc((size_t)n + 1, sizeof(*t->parts));
	if (t->parts == NULL) {
		render_free(t);
		return -1;
	}
	int has_doc = 0;
	for (zip_int64_t i = 0; i < n; i++) {
		const char *en = zip_get_name(t->zip, (zip_uint64_t)i, 0);
		if (en == NULL)
			continue;
		if (strcmp(en, "word/document.xml") == 0)
			has_doc = 1;
		int mode = part_mode_of(en);
		if (mode >= 0)
			compile_part(t, (zip_uint64_t)i, en, (enum part_mode)mode, fields,
			    label ? label : "loại văn bản của mẫu", errs);
	}
	if (!has_doc)
		diag_add(errs, name, 0, "không có word/document.xml: không phải văn bản Word");
	if (errs->count > before) {
		render_free(t);
		return -1;
	}
	*out = t;
	return 0;
}

int render_load(const char *path, struct render_template **out, struct diag_list *errs)
{
	return render_load_fields(path, NULL, NULL, out, errs);
}

int render_load_fields(const char *path, json_t *fields, const char *label,
    struct render_template **out, struct diag_list *errs)
{
	char *buf = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if (xmlin_read_file(path, 64 * 1024 * 1024, &buf, &len, errs) != 0)
		return -1;
	rc = render_load_memory_fields(path, buf, len, fields, label, out, errs);
	free(buf);
	return rc;
}

void render_free(struct render_template *t)
{
	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nparts; i++)
		free_part(&t->parts[i]);
	free(t->parts);
	if (t->zip)
		zip_discard(t->zip);
	free(t->data);
	free(t->name);
	free(t);
}

const char *render_name(const struct render_template *t)
{
	return t->name;
}

/* ---- rendering ---- */

struct obuf {
	char *s;
	size_t len, cap;
	int failed;
};

static void ob_add(struct obuf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (n >= MAX_PART_OUTPUT - b->len) {
		b->failed = 1;
		return;
	}
	if (b->len + n + 1 > b->cap) {
		size_t nc = b->cap ? b->cap : 65536;
		while (nc < b->len + n + 1)
			nc *= 2;
		char *p = realloc(b->s, nc);
		if (p == NULL) {
			b->failed = 1;
			return;
		}
		b->s = p;
		b->cap = nc;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
}

/* A value as WordprocessingML text: escaped, newlines as breaks, no character XML forbids. */
static void ob_value(struct obuf *b, const char *s, int plain)
{
	static const char br[] = "</w:t><w:br/><w:t xml:space=\"preserve\">";
	const char *run = s;

	for (; *s; s++) {
		const char *rep = NULL;
		unsigned char ch = (unsigned char)*s;
		switch (ch) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&apos;"; break;
		case '\n': rep = plain ? " " : br; break;
		case 0x05: rep = plain ? "-" : "</w:t><w:noBreakHyphen/><w:t xml:space=\"preserve\">"; break;
		case '\r': rep = ""; break;
		default:
			if (ch < 0x20 && ch != '\t')
				rep = "";
			/* U+FFFE and U+FFFF (EF BF BE/BF) are not XML characters either */
			if (ch == 0xEF && (unsigned char)s[1] == 0xBF &&
			    ((unsigned char)s[2] == 0xBE || (unsigned char)s[2] == 0xBF)) {
				ob_add(b, run, (size_t)(s - run));
				s += 2;
				run = s + 1;
				continue;
			}
		}
		if (rep) {
			ob_add(b, run, (size_t)(s - run));
			ob_add(b, rep, strlen(rep));
			run = s + 1;
		}
	}
	ob_add(b, run, (size_t)(s - run));
}

/*
 * A rich value: text with inline marks (RENDER_BOLD_ON ... of render.h). Each
 * change of look closes the run and opens one with the template run's
 * properties plus bold and/or italic; the last run goes back to the plain look,
 * so the template's text after the tag keeps its own.
 */
/* The bookmark a place mark (RENDER_PLACE_* of render.h) becomes; NULL for other bytes. */
static const char *place_name(unsigned char c)
{
	switch (c) {
	case 0x06: return RENDER_PLACE_NUMBER_NAME;
	case 0x07: return RENDER_PLACE_DAY_NAME;
	case 0x08: return RENDER_PLACE_MONTH_NAME;
	case 0x0e: return RENDER_PLACE_YEAR_NAME;
	case 0x0f: return RENDER_PLACE_TITLE_END_NAME;
	case 0x10: return RENDER_PLACE_NAME_START_NAME;
	case 0x11: return RENDER_PLACE_NAME_END_NAME;
	default: return NULL;
	}
}

static int is_mark(unsigned char c)
{
	return (c >= 1 && c <= 4) || place_name(c) != NULL;
}

static void ob_rich(struct obuf *b, const char *s, const struct seg *sg)
{
	int bold = 0, italic = 0, look = 0;
	const char *p = s;
	char chunk[1024];
	size_t n;

	while (*p) {
		n = 0;
		while (p[n] && !is_mark((unsigned char)p[n]) && n < sizeof(chunk) - 1)
			n++;
		memcpy(chunk, p, n);
		chunk[n] = '\0';
		ob_value(b, chunk, 0);
		p += n;
		if (*p == 0)
			break;
		if (place_name((unsigned char)*p) != NULL) {
			/* a bookmark between runs: where the PDF's named destination will be */
			char mark[160];
			int ml = snprintf(mark, sizeof(mark), "</w:t></w:r><w:bookmarkStart w:id=\"%d\" "
			    "w:name=\"%s\"/><w:bookmarkEnd w:id=\"%d\"/><w:r>", 9000 + (unsigned char)*p,
			    place_name((unsigned char)*p), 9000 + (unsigned char)*p);
			ob_add(b, mark, (size_t)ml);
			ob_add(b, sg->rpr[look], strlen(sg->rpr[look]));
			ob_add(b, "<w:t xml:space=\"preserve\">", 26);
			p++;
			continue;
		}
		if ((unsigned char)*p <= 4) {
			switch (*p) {
			case 1: bold = 1; break;
			case 2: bold = 0; break;
			case 3: italic = 1; break;
			case 4: italic = 0; break;
			}
			p++;
			if ((bold | italic << 1) != look) {
				look = bold | italic << 1;
				ob_add(b, "</w:t></w:r><w:r>", 17);
				ob_add(b, sg->rpr[look], strlen(sg->rpr[look]));
				ob_add(b, "<w:t xml:space=\"preserve\">", 26);
			}
		}
	}
	if (look != 0) {
		ob_add(b, "</w:t></w:r><w:r>", 17);
		ob_add(b, sg->rpr[0], strlen(sg->rpr[0]));
		ob_add(b, "<w:t xml:space=\"preserve\">", 26);
	}
}

static int has_marks(const char *s)
{
	for (; *s; s++)
		if (is_mark((unsigned char)*s))
			return 1;
	return 0;
}

static json_t *lookup(json_t *const *ctx, int depth, const struct seg *s)
{
	if (s->npath == 0)
		return ctx[depth - 1];
	for (int d = depth - 1; d >= 0; d--) {
		json_t *v = json_is_object(ctx[d]) ? json_object_get(ctx[d], s->path[0]) : NULL;
		if (v == NULL)
			continue;
		for (int k = 1; k < s->npath && v; k++)
			v = json_is_object(v) ? json_object_get(v, s->path[k]) : NULL;
		return v;
	}
	return NULL;
}

static int truthy(json_t *v)
{
	if (v == NULL || json_is_null(v) || json_is_false(v))
		return 0;
	if (json_is_string(v))
		return json_string_length(v) > 0;
	if (json_is_array(v))
		return json_array_size(v) > 0;
	if (json_is_integer(v))
		return json_integer_value(v) != 0;
	return 1;
}

struct frame {
	size_t begin;
	json_t *list;   /* borrowed; NULL when the section is not a loop */
	size_t idx;
	int pushed;     /* a context was pushed for it */
};

static int render_part(const struct part *p, json_t *data, struct obuf *b)
{
	json_t *ctx[MAX_DEPTH * 2 + 2];
	struct frame fr[MAX_DEPTH + 1];
	int cdepth = 1, fdepth = 0;

	ctx[0] = data;
	/* once the part is too large (or memory ran out), nothing more is walked */
	for (size_t i = 0; i < p->nsegs && !b->failed; i++) {
		const struct seg *s = &p->segs[i];
		json_t *v;
		switch (s->kind) {
		case SEG_TEXT:
			ob_add(b, p->xml + s->off, s->len);
			break;
		case SEG_FIELD:
			v = lookup(ctx, cdepth, s);
			if (json_is_string(v) && !s->plain && s->rpr[0] && s->rpr[1] && s->rpr[2] &&
			    s->rpr[3] && has_marks(json_string_value(v))) {
				ob_rich(b, json_string_value(v), s);
			} else if (json_is_string(v)) {
				ob_value(b, json_string_value(v), s->plain);
			} else if (json_is_integer(v) || json_is_real(v)) {
				char num[64];
				if (json_is_integer(v))
					snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
				else
					snprintf(num, sizeof(num), "%g", json_real_value(v));
				ob_value(b, num, s->plain);
			}
			break;
		case SEG_BEGIN:
			v = lookup(ctx, cdepth, s);
			if (s->inverted ? truthy(v) : !truthy(v)) {
				i = s->match;  /* skip to the END; the loop's ++ passes it */
				break;
			}
			if (fdepth > MAX_DEPTH || cdepth >= (int)(sizeof(ctx) / sizeof(ctx[0])) - 1)
				return -1;
			fr[fdepth] = (struct frame){ .begin = i };
			if (!s->inverted && json_is_array(v)) {
				fr[fdepth].list = v;
				ctx[cdepth++] = json_array_get(v, 0);
				fr[fdepth].pushed = 1;
			} else if (!s->inverted && json_is_object(v)) {
				ctx[cdepth++] = v;
				fr[fdepth].pushed = 1;
			}
			fdepth++;
			break;
		case SEG_END: {
			struct frame *f = &fr[fdepth - 1];
			if (f->list && ++f->idx < json_array_size(f->list)) {
				ctx[cdepth - 1] = json_array_get(f->list, f->idx);
				i = f->begin;
				break;
			}
			if (f->pushed)
				cdepth--;
			fdepth--;
			break;
		}
		}
	}
	return b->failed ? -1 : 0;
}

int render_to_memory(const struct render_template *t, json_t *data, long mtime, void **out,
    size_t *len, char *err, size_t errlen)
{
	zip_source_t *dst = NULL;
	zip_t *z = NULL;
	zip_error_t zerr;
	zip_stat_t st;
	zip_int64_t n;
	int rc = -1;

	*out = NULL;
	*len = 0;
	zip_error_init(&zerr);
	dst = zip_source_buffer_create(NULL, 0, 0, &zerr);
	if (dst == NULL || (z = zip_open_from_source(dst, ZIP_TRUNCATE, &zerr)) == NULL) {
		snprintf(err, errlen, "zip: %s", zip_error_strerror(&zerr));
		zip_source_free(dst);
		zip_error_fini(&zerr);
		return -1;
	}
	zip_source_keep(dst);
	n = zip_get_num_entries(t->zip, 0);
	for (zip_int64_t i = 0; i < n; i++) {
		const char *name = zip_get_name(t->zip, (zip_uint64_t)i, 0);
		const struct part *p = NULL;
		zip_source_t *src;
		zip_int64_t at;
		for (size_t k = 0; k < t->nparts; k++)
			if (t->parts[k].index == (zip_uint64_t)i)
				p = &t->parts[k];
		if (name == NULL)
			continue;
		if (p != NULL) {
			struct obuf b = { 0 };
			if (render_part(p, data, &b) != 0) {
				free(b.s);
				snprintf(err, errlen, "%s: out of memory, data nested too deep, or the filled "
				    "part over %d MiB", name, MAX_PART_OUTPUT / (1024 * 1024));
				goto out;
			}
			src = zip_source_buffer(z, b.s, b.len, 1);
			if (src == NULL) {
				free(b.s);
				goto zfail;
			}
			at = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8);
			if (at < 0) {
				zip_source_free(src);
				goto zfail;
			}
			zip_set_file_compression(z, (zip_uint64_t)at, ZIP_CM_DEFLATE, 1);
		} else {
			/* copied as it is stored: no decompression, no recompression */
			if (zip_stat_index(t->zip, (zip_uint64_t)i, 0, &st) != 0)
				goto zfail;
			src = zip_source_zip(z, t->zip, (zip_uint64_t)i, ZIP_FL_COMPRESSED, 0, -1);
			if (src == NULL)
				goto zfail;
			at = zip_file_add(z, name, src, ZIP_FL_ENC_UTF_8);
			if (at < 0) {
				zip_source_free(src);
				goto zfail;
			}
			/* the same method as in the template, so the bytes go across as they are */
			if ((st.valid & ZIP_STAT_COMP_METHOD) &&
			    zip_set_file_compression(z, (zip_uint64_t)at, (zip_int32_t)st.comp_method, 0) != 0)
				goto zfail;
		}
		zip_file_set_mtime(z, (zip_uint64_t)at, (time_t)mtime, 0);
	}
	if (zip_close(z) != 0) {
		snprintf(err, errlen, "zip: %s", zip_strerror(z));
		zip_discard(z);
		z = NULL;
		goto out;
	}
	z = NULL;
	if (zip_source_stat(dst, &st) != 0 || zip_source_open(dst) != 0) {
		snprintf(err, errlen, "zip: cannot read the new package");
		goto out;
	}
	*out = malloc(st.size ? st.size : 1);
	if (*out == NULL || zip_source_read(dst, *out, st.size) != (zip_int64_t)st.size) {
		zip_source_close(dst);
		free(*out);
		*out = NULL;
		snprintf(err, errlen, "zip: cannot read the new package");
		goto out;
	}
	zip_source_close(dst);
	*len = st.size;
	rc = 0;
	goto out;
zfail:
	snprintf(err, errlen, "zip: %s", zip_strerror(z));
out:
	if (z)
		zip_discard(z);
	zip_source_free(dst);
	zip_error_fini(&zerr);
	return rc;
}

int render_to_file(const struct render_template *t, json_t *data, long mtime, const char *path,
    char *sha256_hex, char *err, size_t errlen)
{
	char tmp[PATH_MAX];
	void *buf = NULL;
	size_t len = 0, off = 0;
	int fd, rc = -1;

	if (render_to_memory(t, data, mtime, &buf, &len, err, errlen) != 0)
		return -1;
	if (sha256_hex && hash_sha256_hex(buf, len, sha256_hex) != 0) {
		snprintf(err, errlen, "cannot hash the document");
		goto out;
	}
	/*
	 * One name per destination, not per process: a daemon killed before the
	 * rename leaves it, and the next try at the same path (the issued document
	 * is published again at the next start) truncates it and renames it away.
	 * One vanthud per spool (its lock), so no two writers share the name.
	 */
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		snprintf(err, errlen, "%s: %s", path, strerror(ENAMETOOLONG));
		goto out;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	while (off < len) {
		ssize_t n = write(fd, (char *)buf + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "write %s: %s", tmp, strerror(errno));
			close(fd);
			unlink(tmp);
			goto out;
		}
		off += (size_t)n;
	}
	if (fsync(fd) != 0) {
		snprintf(err, errlen, "fsync %s: %s", tmp, strerror(errno));
		close(fd);
		unlink(tmp);
		goto out;
	}
	if (close(fd) != 0) {
		snprintf(err, errlen, "close %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (fsutil_rename_durable(tmp, path) != 0) {
		snprintf(err, errlen, "rename %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	rc = 0;
out:
	free(buf);
	return rc;
}
