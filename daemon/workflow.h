/* workflow.h: document kinds, their state machines, and the actions on documents (see workflow.c). */
#ifndef VANTHU_WORKFLOW_H
#define VANTHU_WORKFLOW_H

#include <libxml/xmlschemas.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "diag.h"
#include "store.h"
#include "symbol.h"
#include "units.h"

struct wf_state {
	char *id, *label;      /* owned */
	int initial, final;
	unsigned limit_days;   /* working days; 0: no limit */
	int numbers;           /* entering it gives the register number and date */
	int publishes;         /* entering it writes the final DOCX into spool/outgoing */
};

struct wf_transition {
	char *action, *label;  /* owned */
	char **from;           /* owned array of owned ids */
	size_t nfrom;
	char *to;
	const struct wf_state *to_state; /* borrowed: the state named by to, in the same kind */
	unsigned roles;        /* bit set of enum role */
	int comment_required, not_author, author_only, named_signer;
};

struct wf_kind {
	char *kind, *label, *type, *template_name, *root;  /* owned; type may be NULL */
	char *title;           /* owned: "THÔNG BÁO"; NULL for a công văn */
	char *party_template;  /* owned: the template for a Party committee; NULL: none */
	char *party_type;      /* owned: its type in a Party number ("CV"); NULL: type */
	xmlSchemaPtr schema;   /* owned: the kind's input schema */
	struct wf_state *states;
	size_t nstates;
	struct wf_transition *transitions;
	size_t ntransitions;
};

struct workflows {
	struct wf_kind *kinds; /* owned */
	size_t nkinds;
};

/*
 * Loads every workflows/<kind>/workflow.xml (validated by workflows/workflow.xsd)
 * and its schema.xsd, and checks what a schema cannot: one initial state,
 * transitions between states that exist, a way out of every non-final state.
 */
int workflows_load(const char *dir, struct workflows **out, struct diag_list *errs);
void workflows_free(struct workflows *wf);
const struct wf_kind *workflows_find(const struct workflows *wf, const char *kind);
const struct wf_state *wf_state_find(const struct wf_kind *k, const char *id);

/* The template and the type abbreviation of kind k for a body of that kind;
 * the template is NULL when the kind has none for it. */
const char *workflow_template_for(const struct wf_kind *k, enum config_body_kind body);
const char *workflow_type_for(const struct wf_kind *k, enum config_body_kind body);
/* How a document of kind k issued by body writes its symbol (unit: a công văn's drafting
 * unit); the pointers in out are borrowed from k, body and unit. */
void workflow_symbol_of(const struct wf_kind *k, const struct config_body *body, const char *unit,
    struct symbol_of *out);

/* Who is acting. */
struct wf_actor {
	int64_t uid;
	const char *login;
	unsigned roles;
};

enum wf_rc { WF_OK = 0, WF_UNKNOWN = 1, WF_STATE, WF_DENIED, WF_INVALID, WF_INTERNAL };

/*
 * May actor take action on a document of kind k in its present form? WF_OK
 * with *t, or a refusal with a Vietnamese sentence in msg saying why.
 */
int workflow_check(const struct wf_kind *k, const struct store_doc *doc, const struct wf_actor *a,
    const char *action, const char *comment, const struct wf_transition **t, char *msg,
    size_t msglen);

/* Creates a document of kind from its input XML (len bytes). WF_OK and *id, or a refusal.
 * The input's issuer attribute names the issuing body of cfg (none: the organisation). */
int workflow_create(struct store *st, const struct workflows *wf, const struct config *cfg,
    const struct units *units,
    const char *kind, const char *xml, size_t len, const struct wf_actor *a, int64_t *id,
    struct diag_list *errs, char *msg, size_t msglen);
/* A new revision of a draft; *revision is its number (2 for the first edit). */
int workflow_edit(struct store *st, const struct workflows *wf, const struct config *cfg,
    const struct units *units,
    int64_t id, const char *xml, size_t len, const struct wf_actor *a, int64_t *revision,
    struct diag_list *errs, char *msg, size_t msglen);
/* Takes action on document id: the check, the step and its effects in one transaction;
 * pdf (may be NULL): the leader's signed PDF recorded in the same transaction. */
int workflow_act(struct store *st, const struct workflows *wf, const struct config *cfg,
    int64_t id, const char *action, const char *comment, const struct wf_actor *a,
    const struct store_signed_pdf *pdf, char *symbol, size_t symlen, const struct wf_transition **done, char *msg, size_t msglen);

/* A validated input, ready to become a draft (for inputs dropped in the spool). */
struct wf_input;
int workflow_input_read(const struct wf_kind *k, const struct config *cfg,
    const struct units *units, const char *xml,
    size_t len, const struct wf_actor *a, struct wf_input **out, struct diag_list *errs);
const struct store_doc_new *workflow_input_doc(const struct wf_input *in);
void workflow_input_free(struct wf_input *in);
/* Names the source the draft comes from, "what:a:b[:c]", so that the same source never makes
 * a second live draft (store_doc_new.origin). 0, or -1 out of memory. */
int workflow_input_set_origin(struct wf_input *in, const char *what, const char *a,
    const char *b, const char *c);

#define WF_DOC_NS "urn:vanthu:document:1"

/* The kind whose input root element is name (urn:vanthu:document:1), or NULL. */
const struct wf_kind *workflows_by_root(const struct workflows *wf, const char *name);

/* Documents (drafts) as a kind of dropped input (intake.h). */
struct intake_kind;
extern const struct intake_kind workflow_intake_kind;

#endif
