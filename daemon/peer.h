/* peer.h: who is on the other end of the control socket, and their roles (see peer.c). */
#ifndef VANTHU_PEER_H
#define VANTHU_PEER_H

#include <sys/types.h>

#include "config.h"

struct peer {
	uid_t uid;
	gid_t gid;
	pid_t pid;
	char login[64];   /* the uid's name, or "uid N" when it has none */
	unsigned roles;   /* bit set of enum role; 0: no role, every request is refused */
};

/* Reads SO_PEERCRED from a connected Unix socket. 0 or -1 with errno. */
int peer_from_socket(int fd, struct peer *p);
/* Fills login and roles from the uid's groups and the configured group names. 0 or -1. */
int peer_resolve_roles(const struct config *cfg, struct peer *p);

#endif
