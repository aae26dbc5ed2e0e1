/* wp_security_context_v1 (sway >= 1.9): marks the filter's connections to the compositor as sandboxed. */
#ifndef CLAN_WAYLAND_FILTER_SECURITY_CONTEXT_H
#define CLAN_WAYLAND_FILTER_SECURITY_CONTEXT_H

/*
 * Registers `listen_fd` with the compositor at `compositor` (sandbox engine "clan-desktop", app id `app_id`):
 * connections accepted there are the sandboxed clients. `close_fd`'s hang-up (when the filter, holding the other
 * end, is gone) ends the listener. 1: attached; 0: the compositor has no security context; -1: it refused.
 */
int attach_security_context(const char *compositor, int listen_fd, int close_fd, const char *app_id);

#endif
