/* Unix stream sockets with file descriptors (SCM_RIGHTS), as the Wayland wire protocol carries them. */
#ifndef CLAN_WAYLAND_FILTER_UNIX_SOCKET_H
#define CLAN_WAYLAND_FILTER_UNIX_SOCKET_H

#include <stddef.h>
#include <stdint.h>

/* libwayland sends at most 28 fds per sendmsg (MAX_FDS_OUT) and reads at most that many per recvmsg. */
#define UNIX_MAX_FDS_PER_MESSAGE 28

int unix_connect(const char *path);
/* Binds `path` (replacing a socket left there) and listens. */
int unix_listen(const char *path);

/*
 * Sends `length` bytes with the first `*fd_count` fds of `fds`, which go with the first bytes sent (28 per sendmsg:
 * while more are queued, the bytes go 4 at a time so that none arrives after the message that uses it). Sent fds
 * are removed from `fds` and, with `close_sent`, closed here. -1 on error (errno set).
 */
int unix_send(int to, const uint8_t *data, size_t length, int *fds, int *fd_count, int close_sent);

#endif
