/* ctl.h: the control-socket server (see ctl.c). */
#ifndef VANTHU_CTL_H
#define VANTHU_CTL_H

#include <stddef.h>
#include <time.h>
#include <uv.h>

#include "config.h"
#include "catalog.h"
#include "store.h"

struct ctl;

/*
 * Creates the socket's folder (0750) and the socket (0660), replacing a stale
 * socket file left by a crash (the caller holds the spool lock), and starts
 * serving. cfg and store are borrowed and must outlive the server.
 */
int ctl_start(uv_loop_t *loop, const struct config *cfg, struct store *store,
    struct ctl **out, char *err, size_t errlen);
/* After a reload: the new configuration (borrowed) for roles and limits. */
void ctl_set_config(struct ctl *ctl, const struct config *cfg);
/* The catalog requests use from now on (ctl takes a reference of its own). */
void ctl_set_catalog(struct ctl *ctl, struct catalog *cat);
/* The office's signing (borrowed; NULL: none): sign.prepare, sign.finish and issue use it. */
struct esign;
void ctl_set_esign(struct ctl *ctl, struct esign *es);
/* The exchange with other offices (borrowed; NULL: none): issue plans deliveries through it. */
struct exchange;
void ctl_set_exchange(struct ctl *ctl, struct exchange *x);
/* Called when a round is opened, so its due steps are taken at once. */
void ctl_on_round_change(struct ctl *ctl, void (*cb)(void *arg), void *arg);
/* Called when an issued document's DOCX could not be written, so it is tried again. */
void ctl_on_publish_failed(struct ctl *ctl, void (*cb)(void *arg), void *arg);
/*
 * Stops accepting, removes the socket file, lets requests in flight finish
 * and their replies go out, closes every handle, then calls done(arg) and
 * frees the server.
 */
void ctl_stop(struct ctl *ctl, void (*done)(void *arg), void *arg);

#endif
