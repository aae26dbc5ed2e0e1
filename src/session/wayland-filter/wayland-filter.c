/*
 * clan-wayland-filter: stands between a network VM's forwarded app windows (the host's `waypipe client`) and the
 * host compositor, and lets through only the globals a window needs (allow-list.h).
 *
 *   clan-wayland-filter --listen PATH --app-id NETWORK -- waypipe --no-gpu -s SOCK client
 *
 * It listens on PATH, runs the command with WAYLAND_DISPLAY=PATH, and forks a child per accepted connection, which
 * connects to the compositor (WAYLAND_DISPLAY, or the compositor's security-context socket, see below) and relays
 * both ways. The child parses only message headers, wl_display.get_registry, the registry's global/global_remove
 * events and wl_registry.bind; every other message goes on byte for byte, with its file descriptors in order.
 * Globals outside the allow-list are never shown; a bind to a name not shown is refused with a protocol error and
 * the connection closed. Everything from the client side is hostile: sizes are bounded, strings checked.
 *
 * Written in C because Node cannot pass file descriptors over a unix socket (SCM_RIGHTS), and node-gtk cannot
 * fill Gio's InputVector/OutputVector buffers, which Gio.Socket.send_message/receive_message need.
 *
 * Where the compositor offers wp_security_context_manager_v1 (sway >= 1.9), the filter also registers a listening
 * socket of its own with it (sandbox engine "clan-desktop", app id = the network) and connects its children there:
 * the compositor then knows these clients are sandboxed and withholds its privileged protocols itself too.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "security-context.h"
#include "unix-socket.h"
#include "wire.h"

static const char *network = "?";

static void say(const char *format, ...) {
  va_list args;
  va_start(args, format);
  fprintf(stderr, "clan-wayland-filter[%s]: ", network);
  vfprintf(stderr, format, args);
  fputc('\n', stderr);
  va_end(args);
}

/* The compositor's socket: WAYLAND_DISPLAY, absolute or relative to XDG_RUNTIME_DIR, as libwayland resolves it. */
static int compositor_path(char *out, size_t size) {
  const char *display = getenv("WAYLAND_DISPLAY");
  if (display == NULL || *display == '\0') display = "wayland-0";
  int written;
  if (display[0] == '/') {
    written = snprintf(out, size, "%s", display);
  } else {
    const char *runtime = getenv("XDG_RUNTIME_DIR");
    if (runtime == NULL) return -1;
    written = snprintf(out, size, "%s/%s", runtime, display);
  }
  return written < 0 || (size_t)written >= size ? -1 : 0;
}

/* ---- one relayed connection ---- */

struct direction {
  int from, to;
  struct wire_buffer in;
  int fds[WIRE_MAX_FDS_QUEUED];
  int fd_count;
};

/* Forwards bytes with every fd received so far: fds arrive with or before the message that uses them. */
static int send_with_fds(struct direction *d, const uint8_t *data, size_t length) {
  return unix_send(d->to, data, length, d->fds, &d->fd_count, 1);
}

/* Reads what is there, with its fds; 0 at end of stream, -1 on error (a truncated fd list is an error). */
static int receive_with_fds(struct direction *d) {
  struct iovec iov = {.iov_base = d->in.data + d->in.length, .iov_len = sizeof d->in.data - d->in.length};
  char control[CMSG_SPACE(sizeof(int) * UNIX_MAX_FDS_PER_MESSAGE)];
  struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control};
  ssize_t received;
  do received = recvmsg(d->from, &message, MSG_CMSG_CLOEXEC);
  while (received < 0 && errno == EINTR);
  if (received < 0) return -1;
  for (struct cmsghdr *header = CMSG_FIRSTHDR(&message); header != NULL; header = CMSG_NXTHDR(&message, header)) {
    if (header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (header->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    int incoming[UNIX_MAX_FDS_PER_MESSAGE];
    memcpy(incoming, CMSG_DATA(header), sizeof(int) * count);
    for (size_t i = 0; i < count; i++) {
      if (d->fd_count == WIRE_MAX_FDS_QUEUED) {
        say("more than %d file descriptors queued without a message to carry them", WIRE_MAX_FDS_QUEUED);
        close(incoming[i]);
        return -1;
      }
      d->fds[d->fd_count++] = incoming[i];
    }
  }
  if (message.msg_flags & MSG_CTRUNC) {
    say("more than %d file descriptors in one read", UNIX_MAX_FDS_PER_MESSAGE);
    return -1;
  }
  if (received == 0) return 0;
  d->in.length += (size_t)received;
  return 1;
}

/* Relays until either side closes or the client breaks the rules; the exit status says which. */
static int relay(int client, int compositor) {
  struct wire_state state;
  wire_state_init(&state);
  struct direction up = {.from = client, .to = compositor};
  struct direction down = {.from = compositor, .to = client};
  struct pollfd fds[2] = {{.fd = client, .events = POLLIN}, {.fd = compositor, .events = POLLIN}};
  uint8_t out[WIRE_BUFFER_SIZE];
  uint8_t reply[WIRE_MAX_ERROR_SIZE];
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return 1;
    }
    for (int side = 0; side < 2; side++) {
      if (fds[side].revents == 0) continue;
      struct direction *d = side == 0 ? &up : &down;
      int got = receive_with_fds(d);
      if (got <= 0) return got == 0 ? 0 : 1;
      size_t out_length = 0, reply_length = 0;
      char why[200] = "";
      enum wire_verdict verdict = side == 0 ? wire_filter_requests(&state, &d->in, out, &out_length, reply, &reply_length, why, sizeof why)
                                            : wire_filter_events(&state, &d->in, out, &out_length, why, sizeof why);
      if (out_length > 0 && send_with_fds(d, out, out_length) < 0) return 1;
      if (verdict == WIRE_REFUSE) {
        say("closing a client: %s", why);
        if (reply_length > 0) {
          struct direction back = {.to = client};
          send_with_fds(&back, reply, reply_length);
        }
        return 2;
      }
    }
  }
}

/* ---- main ---- */

static volatile sig_atomic_t command_exited = 0;

static volatile sig_atomic_t stopping = 0;

/* The connection children, ended with the filter: their windows go when the network's display stops. */
#define MAX_CONNECTIONS 64
static pid_t connections[MAX_CONNECTIONS];

static void forget_connection(pid_t pid) {
  for (int i = 0; i < MAX_CONNECTIONS; i++) {
    if (connections[i] == pid) connections[i] = 0;
  }
}

static int free_connection_slot(void) {
  for (int i = 0; i < MAX_CONNECTIONS; i++) {
    if (connections[i] == 0) return i;
  }
  return -1;
}

static void on_child(int signal_number) {
  (void)signal_number;
  command_exited = 1;
}

static void on_stop(int signal_number) {
  (void)signal_number;
  stopping = 1;
}

int main(int argc, char **argv) {
  const char *listen_path = NULL;
  int command_index = -1;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc) listen_path = argv[++i];
    else if (strcmp(argv[i], "--app-id") == 0 && i + 1 < argc) network = argv[++i];
    else if (strcmp(argv[i], "--") == 0 && i + 1 < argc) {
      command_index = i + 1;
      break;
    } else {
      fprintf(stderr, "usage: clan-wayland-filter --listen PATH --app-id NETWORK -- COMMAND...\n");
      return 64;
    }
  }
  if (listen_path == NULL || command_index < 0 || strcmp(network, "?") == 0 || strlen(network) > 200) {
    fprintf(stderr, "usage: clan-wayland-filter --listen PATH --app-id NETWORK -- COMMAND...\n");
    return 64;
  }
  char compositor[sizeof(((struct sockaddr_un *)0)->sun_path)];
  if (compositor_path(compositor, sizeof compositor) < 0) {
    say("no compositor socket: WAYLAND_DISPLAY is relative and XDG_RUNTIME_DIR unset, or the path is too long");
    return 69;
  }
  umask(077);
  int listener = unix_listen(listen_path);
  if (listener < 0) {
    say("cannot listen on %s: %s", listen_path, strerror(errno));
    return 73;
  }

  /* Where the children connect: the compositor itself, or its security-context socket for this filter. */
  char upstream[sizeof compositor];
  snprintf(upstream, sizeof upstream, "%s", compositor);
  char context_path[sizeof compositor];
  int close_fds[2] = {-1, -1};
  if (snprintf(context_path, sizeof context_path, "%s.ctx", listen_path) < (int)sizeof context_path) {
    int context_listener = unix_listen(context_path);
    if (context_listener >= 0 && pipe2(close_fds, O_CLOEXEC) == 0) {
      /* The compositor watches the read end: it hangs up when the filter, holding the write end, is gone. */
      int attached = attach_security_context(compositor, context_listener, close_fds[0], network);
      if (attached == 1) {
        snprintf(upstream, sizeof upstream, "%s", context_path);
        say("security context: attached (sandbox engine clan-desktop, app id %s)", network);
      } else {
        say(attached == 0 ? "security context: the compositor has none; the allow-list alone filters"
                          : "security context: the compositor refused it; the allow-list alone filters");
        unlink(context_path);
      }
      close(close_fds[0]);
      close(context_listener);
    } else {
      say("security context: cannot make its socket: %s", strerror(errno));
    }
  }

  /* The signals are blocked except inside ppoll(), which unblocks them atomically: the loop sleeps without a
     timeout and still sees a SIGCHLD or SIGTERM that arrives just before it goes to sleep. */
  sigset_t handled, unblocked;
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  sigaddset(&handled, SIGTERM);
  sigaddset(&handled, SIGINT);
  sigprocmask(SIG_BLOCK, &handled, &unblocked);
  struct sigaction action = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
  sigaction(SIGCHLD, &action, NULL);
  struct sigaction stop_action = {.sa_handler = on_stop};
  sigaction(SIGTERM, &stop_action, NULL);
  sigaction(SIGINT, &stop_action, NULL);
  pid_t command = fork();
  if (command < 0) return 71;
  if (command == 0) {
    /* Also when the filter is killed outright: nothing it started outlives it. */
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    sigprocmask(SIG_SETMASK, &unblocked, NULL);
    setenv("WAYLAND_DISPLAY", listen_path, 1);
    signal(SIGTERM, SIG_DFL);
    signal(SIGINT, SIG_DFL);
    execvp(argv[command_index], argv + command_index);
    say("cannot run %s: %s", argv[command_index], strerror(errno));
    _exit(127);
  }

  int status = 0;
  while (!stopping) {
    if (command_exited) {
      command_exited = 0;
      pid_t ended;
      int ended_status;
      while ((ended = waitpid(-1, &ended_status, WNOHANG)) > 0) {
        if (ended == command) {
          status = WIFEXITED(ended_status) ? WEXITSTATUS(ended_status) : 128 + WTERMSIG(ended_status);
          goto finish;
        }
        forget_connection(ended);
      }
    }
    struct pollfd waiting = {.fd = listener, .events = POLLIN};
    if (ppoll(&waiting, 1, NULL, &unblocked) <= 0) continue;
    int client = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
    if (client < 0) continue;
    int slot = free_connection_slot();
    if (slot < 0) {
      say("refusing a client: %d connections are open already", MAX_CONNECTIONS);
      close(client);
      continue;
    }
    pid_t child = fork();
    if (child == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      close(listener);
      signal(SIGCHLD, SIG_DFL);
      signal(SIGTERM, SIG_DFL);
      signal(SIGINT, SIG_DFL);
      sigprocmask(SIG_SETMASK, &unblocked, NULL);
      int compositor_fd = unix_connect(upstream);
      if (compositor_fd < 0) {
        say("cannot connect to the compositor at %s: %s", upstream, strerror(errno));
        _exit(1);
      }
      _exit(relay(client, compositor_fd));
    }
    if (child < 0) say("cannot fork for a client: %s", strerror(errno));
    else connections[slot] = child;
    close(client);
  }
finish:
  if (stopping) kill(command, SIGTERM);
  for (int i = 0; i < MAX_CONNECTIONS; i++) {
    if (connections[i] != 0) kill(connections[i], SIGTERM);
  }
  unlink(listen_path);
  if (strcmp(upstream, compositor) != 0) unlink(context_path);
  return status;
}
