/*
 * peer.c: the identity of a client, as the kernel tells it. The daemon never
 * trusts a name a client sends: SO_PEERCRED gives the uid, and the uid's Unix
 * groups, matched against the [roles] group names, give the roles. Root is
 * always admin. A uid in none of the groups has no role.
 */
#include "peer.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int peer_from_socket(int fd, struct peer *p)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	memset(p, 0, sizeof(*p));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
		return -1;
	p->uid = cred.uid;
	p->gid = cred.gid;
	p->pid = cred.pid;
	return 0;
}

int peer_resolve_roles(const struct config *cfg, struct peer *p)
{
	struct passwd pw, *pwp = NULL;
	char buf[16384];
	gid_t groups[512];
	int ngroups = (int)(sizeof(groups) / sizeof(groups[0]));

	p->roles = 0;
	if (getpwuid_r(p->uid, &pw, buf, sizeof(buf), &pwp) != 0 || pwp == NULL) {
		snprintf(p->login, sizeof(p->login), "uid %ld", (long)p->uid);
		/* A uid without a name has no groups to look up; only root is special. */
		if (p->uid == 0)
			p->roles = ROLE_ADMIN;
		return 0;
	}
	snprintf(p->login, sizeof(p->login), "%s", pw.pw_name);
	if (getgrouplist(pw.pw_name, pw.pw_gid, groups, &ngroups) < 0)
		ngroups = (int)(sizeof(groups) / sizeof(groups[0]));
	for (int r = 0; r < ROLE_COUNT; r++) {
		struct group gr, *grp = NULL;
		char gbuf[16384];
		if (getgrnam_r(cfg->role_group[r], &gr, gbuf, sizeof(gbuf), &grp) != 0 || grp == NULL)
			continue;
		for (int i = 0; i < ngroups; i++) {
			if (groups[i] == grp->gr_gid) {
				p->roles |= 1u << r;
				break;
			}
		}
	}
	if (p->uid == 0)
		p->roles |= ROLE_ADMIN;
	return 0;
}
