/*
 * The little of the Wayland wire format the filter reads: message headers, wl_display.get_registry, the registry's
 * global/global_remove events and wl_registry.bind. Every length comes from the peer and is checked against the
 * message before it is used; a message that breaks the format ends the connection.
 */
#ifndef CLAN_WAYLAND_FILTER_WIRE_H
#define CLAN_WAYLAND_FILTER_WIRE_H

#include <stddef.h>
#include <stdint.h>

/* libwayland's own limit for one message (WL_MAX_MESSAGE_SIZE). */
#define WIRE_MAX_MESSAGE 4096
/* Room for a whole message after a partial one. */
#define WIRE_BUFFER_SIZE (2 * WIRE_MAX_MESSAGE)
#define WIRE_MAX_FDS_QUEUED 256
#define WIRE_MAX_REGISTRIES 16
#define WIRE_MAX_GLOBALS 512
#define WIRE_MAX_ERROR_SIZE 256

struct wire_buffer {
  uint8_t data[WIRE_BUFFER_SIZE];
  size_t length;
};

struct wire_global {
  uint32_t name;
  uint32_t version;
  char interface[64];
  int shown;
  int removed;
};

struct wire_state {
  uint32_t registries[WIRE_MAX_REGISTRIES];
  int registry_count;
  struct wire_global globals[WIRE_MAX_GLOBALS];
  int global_count;
};

enum wire_verdict { WIRE_GO_ON, WIRE_REFUSE };

void wire_state_init(struct wire_state *state);

/* Client → compositor: moves every complete message of `in` that may pass into `out` (at most `in`'s size). On a
 * refusal, `reply` holds the protocol error for the client (`reply_length` bytes, maybe 0) and `why` says why. */
enum wire_verdict wire_filter_requests(struct wire_state *state, struct wire_buffer *in, uint8_t *out, size_t *out_length,
                                       uint8_t *reply, size_t *reply_length, char *why, size_t why_size);

/* Compositor → client: moves every complete message into `out` except the globals outside the allow-list and
 * their global_remove. */
enum wire_verdict wire_filter_events(struct wire_state *state, struct wire_buffer *in, uint8_t *out, size_t *out_length,
                                     char *why, size_t why_size);

/* The security context handshake: get_registry (id 2) and sync (id 3). */
size_t wire_security_context_probe(uint8_t *out);
/* 1 once the sync is done (`name` is the manager's global, 0 if none), 0 for more, -1 on a protocol error. */
int wire_scan_for_security_context(struct wire_buffer *in, uint32_t *name, uint32_t *version);
/* bind the manager (4), create_listener (5, with two fds), engine, app id, commit, then sync (6). */
size_t wire_security_context_create(uint8_t *out, uint32_t manager_name, const char *app_id);
/* 1 once the second sync is done, 0 for more, -1 on a protocol error. */
int wire_scan_for_second_sync(struct wire_buffer *in);

#endif
