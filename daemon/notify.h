/* notify.h: the systemd readiness protocol without libsystemd (see notify.c). */
#ifndef VANTHU_NOTIFY_H
#define VANTHU_NOTIFY_H

/* Sends state (e.g. "READY=1") to $NOTIFY_SOCKET. 0 when sent or not asked for, -1 on error. */
int notify_send(const char *state);

#endif
