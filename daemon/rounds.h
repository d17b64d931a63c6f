/* rounds.h: reporting rounds and the drafts the daemon writes for them (see rounds.c). */
#ifndef VANTHU_ROUNDS_H
#define VANTHU_ROUNDS_H

#include <jansson.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "catalog.h"
#include "store.h"
#include "workflow.h"

/* How a round is opened. */
enum rounds_flag {
	ROUNDS_FORCE = 1 << 0,  /* its dates may be past (also the input's allow-past="true") */
	ROUNDS_TODAY = 1 << 1,  /* move its dates so that its request is dated today */
};

/*
 * Opens a round from its input XML. 0 with its id in id_out, or a WF_*
 * refusal with msg: WF_STATE when its only fault is a reminder day, deadline
 * or closing day already past (each an R_PAST in errs) without ROUNDS_FORCE.
 */
int rounds_create(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *xml, size_t len, const struct wf_actor *a, unsigned flags, char *id_out,
    size_t idlen, struct diag_list *errs, char *msg, size_t msglen);

/* A round input checked and ready to store (for inputs dropped in the spool; flags as above). */
struct rounds_input;
int rounds_prepare(const struct catalog *cat, const struct config *cfg, const char *xml,
    size_t len, const struct wf_actor *a, unsigned flags, struct rounds_input **out,
    struct diag_list *errs, char *msg, size_t msglen);
const struct store_round_new *rounds_input_round(const struct rounds_input *in);
void rounds_input_free(struct rounds_input *in);

/* The draft a meeting's conclusions become, checked (for inputs dropped in the spool). */
int rounds_meeting_prepare(const struct catalog *cat, const struct config *cfg,
    const char *xml, size_t len, struct wf_input **out, struct diag_list *errs, char *msg,
    size_t msglen);

/* A meeting's conclusions become a Thông báo kết luận draft. WF_OK and *doc_id, or a refusal. */
int rounds_meeting(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *xml, size_t len, int64_t *doc_id, struct diag_list *errs, char *msg,
    size_t msglen);

/* A round as vanthuctl shows it: fields, and each required unit's status in collation order. */
json_t *rounds_describe(struct store *st, const struct catalog *cat, const char *id,
    char *err, size_t errlen);

/*
 * Takes every step that is due: reminders whose time has come (a công văn đôn
 * đốc to the units that have not reported, none when all have), closings
 * (every unit reported, or the deadline passed: the conclusion draft). Each
 * step happens once. *next gets the UTC time of the next step (0: none).
 */
void rounds_tick(struct store *st, const struct catalog *cat, const struct config *cfg,
    time_t *next);

/* A clerk closes a round early. WF_OK, or a refusal with msg. */
int rounds_close(struct store *st, const struct catalog *cat, const struct config *cfg,
    const char *id, const struct wf_actor *a, int64_t *doc_id, char *msg, size_t msglen);

/*
 * Keeps a round's reminder (a công văn đôn đốc) true to the round before
 * actor a takes action on document doc_id. WF_OK and nothing done when the
 * document is no round's reminder, or the step is not one a may take towards
 * issue (workflow_act then says why). A reminder whose round has closed or
 * whose units have all reported is withdrawn by the daemon with the reason
 * in its history: WF_STATE, the reason in msg. At submit and at issue the
 * units that reported since leave its Kính gửi and its count sentence is
 * updated, as a new revision by "vanthud" whose history says what changed.
 */
int rounds_follow_reminder(struct store *st, const struct catalog *cat, const struct config *cfg,
    int64_t doc_id, const char *action, const char *comment, const struct wf_actor *a, char *msg,
    size_t msglen);

/* Reporting rounds and meetings' conclusions as kinds of dropped input (intake.h). */
struct intake_kind;
extern const struct intake_kind rounds_intake_kind;
extern const struct intake_kind meeting_intake_kind;

#endif
