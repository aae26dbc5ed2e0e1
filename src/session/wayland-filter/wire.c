#include "wire.h"

#include <stdio.h>
#include <string.h>

#include "allow-list.h"

#define DISPLAY_ID 1
#define DISPLAY_SYNC 0
#define DISPLAY_GET_REGISTRY 1
#define DISPLAY_ERROR_EVENT 0
#define DISPLAY_ERROR_INVALID_OBJECT 0
#define REGISTRY_BIND 0
#define REGISTRY_GLOBAL 0
#define REGISTRY_GLOBAL_REMOVE 1

static uint32_t word_at(const uint8_t *data, size_t offset) {
  uint32_t word;
  memcpy(&word, data + offset, sizeof word);
  return word;
}

static void put_word(uint8_t *out, size_t *length, uint32_t word) {
  memcpy(out + *length, &word, sizeof word);
  *length += sizeof word;
}

static void put_string(uint8_t *out, size_t *length, const char *text) {
  uint32_t size = (uint32_t)strlen(text) + 1;
  put_word(out, length, size);
  memset(out + *length, 0, (size + 3) & ~3u);
  memcpy(out + *length, text, size);
  *length += (size + 3) & ~3u;
}

/* Reads a string argument at `*offset` of a message of `size` bytes into `text`; -1 if it does not fit the
 * message, lacks its NUL, holds another NUL, or is longer than `text`. */
static int read_string(const uint8_t *message, uint32_t size, uint32_t *offset, char *text, size_t text_size) {
  if (*offset + 4 > size) return -1;
  uint32_t length = word_at(message, *offset);
  *offset += 4;
  uint32_t padded = (length + 3) & ~3u;
  if (length == 0 || length > text_size || padded > size - *offset) return -1;
  const char *bytes = (const char *)message + *offset;
  if (bytes[length - 1] != '\0' || strlen(bytes) != length - 1) return -1;
  memcpy(text, bytes, length);
  *offset += padded;
  return 0;
}

/* The next message's size, 0 if it is not all there yet, or -1 (with `why`) if its header is not a message's. */
static long next_message(const struct wire_buffer *in, size_t at, char *why, size_t why_size) {
  if (in->length - at < 8) return 0;
  uint32_t size = word_at(in->data, at + 4) >> 16;
  if (size < 8 || size % 4 != 0 || size > WIRE_MAX_MESSAGE) {
    snprintf(why, why_size, "a message of %u bytes (a message has 8 to %d, a multiple of 4)", size, WIRE_MAX_MESSAGE);
    return -1;
  }
  return in->length - at < size ? 0 : (long)size;
}

static void consume(struct wire_buffer *in, size_t used) {
  memmove(in->data, in->data + used, in->length - used);
  in->length -= used;
}

static int is_registry(const struct wire_state *state, uint32_t id) {
  for (int i = 0; i < state->registry_count; i++) {
    if (state->registries[i] == id) return 1;
  }
  return 0;
}

static struct wire_global *find_global(struct wire_state *state, uint32_t name) {
  for (int i = 0; i < state->global_count; i++) {
    if (state->globals[i].name == name) return &state->globals[i];
  }
  return NULL;
}

void wire_state_init(struct wire_state *state) { memset(state, 0, sizeof *state); }

static size_t display_error(uint8_t *reply, uint32_t object, const char *message) {
  size_t length = 8;
  put_word(reply, &length, object);
  put_word(reply, &length, DISPLAY_ERROR_INVALID_OBJECT);
  put_string(reply, &length, message);
  uint32_t header[2] = {DISPLAY_ID, (uint32_t)length << 16 | DISPLAY_ERROR_EVENT};
  memcpy(reply, header, sizeof header);
  return length;
}

/* Checks a bind: the name must be a global shown on this connection, of that interface, at most its version. */
static enum wire_verdict check_bind(struct wire_state *state, const uint8_t *message, uint32_t size, uint32_t registry,
                                    uint8_t *reply, size_t *reply_length, char *why, size_t why_size) {
  uint32_t offset = 8;
  char interface[64];
  if (size < 12) goto malformed;
  uint32_t name = word_at(message, offset);
  offset += 4;
  if (read_string(message, size, &offset, interface, sizeof interface) < 0 || offset + 8 != size) goto malformed;
  uint32_t version = word_at(message, offset);
  const struct wire_global *global = find_global(state, name);
  if (global == NULL || !global->shown || strcmp(global->interface, interface) != 0 || version == 0 || version > global->version) {
    char text[120];
    snprintf(text, sizeof text, "invalid global %.64s (%u)", interface, name);
    snprintf(why, why_size, "a bind to %s, which the filter did not offer", text);
    *reply_length = display_error(reply, registry, text);
    return WIRE_REFUSE;
  }
  return WIRE_GO_ON;
malformed:
  snprintf(why, why_size, "a malformed wl_registry.bind (%u bytes)", size);
  *reply_length = display_error(reply, registry, "malformed bind");
  return WIRE_REFUSE;
}

enum wire_verdict wire_filter_requests(struct wire_state *state, struct wire_buffer *in, uint8_t *out, size_t *out_length,
                                       uint8_t *reply, size_t *reply_length, char *why, size_t why_size) {
  size_t at = 0;
  enum wire_verdict verdict = WIRE_GO_ON;
  *out_length = 0;
  *reply_length = 0;
  for (;;) {
    long size = next_message(in, at, why, why_size);
    if (size < 0) {
      verdict = WIRE_REFUSE;
      break;
    }
    if (size == 0) break;
    const uint8_t *message = in->data + at;
    uint32_t object = word_at(message, 0);
    uint32_t opcode = word_at(message, 4) & 0xffff;
    if (object == DISPLAY_ID && opcode == DISPLAY_GET_REGISTRY) {
      if (size != 12 || state->registry_count == WIRE_MAX_REGISTRIES) {
        snprintf(why, why_size, size != 12 ? "a malformed get_registry" : "more than %d registries", WIRE_MAX_REGISTRIES);
        verdict = WIRE_REFUSE;
        break;
      }
      state->registries[state->registry_count++] = word_at(message, 8);
    } else if (opcode == REGISTRY_BIND && is_registry(state, object)) {
      verdict = check_bind(state, message, (uint32_t)size, object, reply, reply_length, why, why_size);
      if (verdict == WIRE_REFUSE) break;
    }
    memcpy(out + *out_length, message, (size_t)size);
    *out_length += (size_t)size;
    at += (size_t)size;
  }
  consume(in, at);
  return verdict;
}

/* Records a global the compositor announced; whether the client sees it is the allow-list's word. */
static struct wire_global *remember_global(struct wire_state *state, uint32_t name) {
  struct wire_global *global = find_global(state, name);
  if (global != NULL) return global;
  if (state->global_count == WIRE_MAX_GLOBALS) {
    /* A removed global's name never comes back: its slot is the one to reuse. */
    for (int i = 0; i < state->global_count; i++) {
      if (state->globals[i].removed) return &state->globals[i];
    }
    return NULL;
  }
  return &state->globals[state->global_count++];
}

enum wire_verdict wire_filter_events(struct wire_state *state, struct wire_buffer *in, uint8_t *out, size_t *out_length,
                                     char *why, size_t why_size) {
  size_t at = 0;
  enum wire_verdict verdict = WIRE_GO_ON;
  *out_length = 0;
  for (;;) {
    long size = next_message(in, at, why, why_size);
    if (size < 0) {
      verdict = WIRE_REFUSE;
      break;
    }
    if (size == 0) break;
    const uint8_t *message = in->data + at;
    uint32_t object = word_at(message, 0);
    uint32_t opcode = word_at(message, 4) & 0xffff;
    int forward = 1;
    if (is_registry(state, object) && opcode == REGISTRY_GLOBAL) {
      uint32_t offset = 8;
      char interface[64];
      if (size < 12) goto malformed;
      uint32_t name = word_at(message, offset);
      offset += 4;
      if (read_string(message, (uint32_t)size, &offset, interface, sizeof interface) < 0 || offset + 4 != (uint32_t)size) goto malformed;
      struct wire_global *global = remember_global(state, name);
      if (global == NULL) {
        snprintf(why, why_size, "the compositor offers more than %d globals", WIRE_MAX_GLOBALS);
        verdict = WIRE_REFUSE;
        break;
      }
      global->name = name;
      global->version = word_at(message, offset);
      memcpy(global->interface, interface, sizeof interface);
      global->shown = allowed_interface(interface);
      global->removed = 0;
      forward = global->shown;
    } else if (is_registry(state, object) && opcode == REGISTRY_GLOBAL_REMOVE) {
      if (size != 12) goto malformed;
      struct wire_global *global = find_global(state, word_at(message, 8));
      /* A hidden global's removal would tell the client it existed. The entry stays: a bind racing the removal
       * is the compositor's to ignore, as it does without the filter. */
      forward = global != NULL && global->shown;
      if (global != NULL) global->removed = 1;
    }
    if (forward) {
      memcpy(out + *out_length, message, (size_t)size);
      *out_length += (size_t)size;
    }
    at += (size_t)size;
    continue;
  malformed:
    snprintf(why, why_size, "a malformed registry event from the compositor");
    verdict = WIRE_REFUSE;
    break;
  }
  consume(in, at);
  return verdict;
}

#define CONTEXT_REGISTRY 2
#define CONTEXT_SYNC 3
#define CONTEXT_MANAGER 4
#define CONTEXT_OBJECT 5
#define CONTEXT_SECOND_SYNC 6
#define SECURITY_CONTEXT_INTERFACE "wp_security_context_manager_v1"

static void finish_message(uint8_t *out, size_t start, size_t end, uint32_t object, uint32_t opcode) {
  uint32_t header[2] = {object, (uint32_t)(end - start) << 16 | opcode};
  memcpy(out + start, header, sizeof header);
}

size_t wire_security_context_probe(uint8_t *out) {
  size_t length = 8;
  put_word(out, &length, CONTEXT_REGISTRY);
  finish_message(out, 0, length, DISPLAY_ID, DISPLAY_GET_REGISTRY);
  size_t start = length;
  length += 8;
  put_word(out, &length, CONTEXT_SYNC);
  finish_message(out, start, length, DISPLAY_ID, DISPLAY_SYNC);
  return length;
}

/* Walks the complete events in `in`: 1 when `callback`'s done came, -1 on wl_display.error, else 0. */
static int scan_events(struct wire_buffer *in, uint32_t callback, uint32_t *name, uint32_t *version) {
  size_t at = 0;
  int result = 0;
  char why[120];
  for (;;) {
    long size = next_message(in, at, why, sizeof why);
    if (size < 0) return -1;
    if (size == 0) break;
    const uint8_t *message = in->data + at;
    uint32_t object = word_at(message, 0);
    uint32_t opcode = word_at(message, 4) & 0xffff;
    if (object == DISPLAY_ID && opcode == DISPLAY_ERROR_EVENT) return -1;
    if (object == callback && opcode == 0) result = 1;
    if (name != NULL && object == CONTEXT_REGISTRY && opcode == REGISTRY_GLOBAL && size >= 12) {
      uint32_t offset = 12;
      char interface[64];
      if (read_string(message, (uint32_t)size, &offset, interface, sizeof interface) == 0 && offset + 4 == (uint32_t)size &&
          strcmp(interface, SECURITY_CONTEXT_INTERFACE) == 0) {
        *name = word_at(message, 8);
        *version = word_at(message, offset);
      }
    }
    at += (size_t)size;
    if (result) break;
  }
  consume(in, at);
  return result;
}

int wire_scan_for_security_context(struct wire_buffer *in, uint32_t *name, uint32_t *version) {
  return scan_events(in, CONTEXT_SYNC, name, version);
}

int wire_scan_for_second_sync(struct wire_buffer *in) { return scan_events(in, CONTEXT_SECOND_SYNC, NULL, NULL); }

size_t wire_security_context_create(uint8_t *out, uint32_t manager_name, const char *app_id) {
  size_t length = 0, start;

  start = length;
  length += 8;
  put_word(out, &length, manager_name);
  put_string(out, &length, SECURITY_CONTEXT_INTERFACE);
  put_word(out, &length, 1);
  put_word(out, &length, CONTEXT_MANAGER);
  finish_message(out, start, length, CONTEXT_REGISTRY, REGISTRY_BIND);

  /* create_listener(new_id, listen_fd, close_fd): the two fds travel beside the message. */
  start = length;
  length += 8;
  put_word(out, &length, CONTEXT_OBJECT);
  finish_message(out, start, length, CONTEXT_MANAGER, 1);

  start = length;
  length += 8;
  put_string(out, &length, "clan-desktop");
  finish_message(out, start, length, CONTEXT_OBJECT, 1);

  start = length;
  length += 8;
  put_string(out, &length, app_id);
  finish_message(out, start, length, CONTEXT_OBJECT, 2);

  start = length;
  length += 8;
  finish_message(out, start, length, CONTEXT_OBJECT, 4);

  start = length;
  length += 8;
  put_word(out, &length, CONTEXT_SECOND_SYNC);
  finish_message(out, start, length, DISPLAY_ID, DISPLAY_SYNC);
  return length;
}
