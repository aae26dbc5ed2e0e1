#include "security-context.h"

#include <stdint.h>
#include <unistd.h>

#include "unix-socket.h"
#include "wire.h"

int attach_security_context(const char *compositor, int listen_fd, int close_fd, const char *app_id) {
  int fd = unix_connect(compositor);
  if (fd < 0) return -1;
  uint8_t message[WIRE_BUFFER_SIZE];
  size_t length = wire_security_context_probe(message);
  int result = -1;
  struct wire_buffer in = {.length = 0};
  uint32_t manager_name = 0, manager_version = 0;
  int no_fds[1];
  int none = 0;
  if (unix_send(fd, message, length, no_fds, &none, 0) < 0) goto done;
  /* Read events until the sync's callback: the globals of the registry arrive before it. */
  for (;;) {
    ssize_t got = read(fd, in.data + in.length, sizeof in.data - in.length);
    if (got <= 0) goto done;
    in.length += (size_t)got;
    int finished = wire_scan_for_security_context(&in, &manager_name, &manager_version);
    if (finished < 0) goto done;
    if (finished) break;
  }
  if (manager_name == 0) {
    result = 0;
    goto done;
  }
  length = wire_security_context_create(message, manager_name, app_id);
  int fds[2] = {listen_fd, close_fd};
  int count = 2;
  if (unix_send(fd, message, length, fds, &count, 0) < 0) goto done;
  /* The second sync's callback comes after any protocol error the compositor raises for the requests above. */
  in.length = 0;
  for (;;) {
    ssize_t got = read(fd, in.data + in.length, sizeof in.data - in.length);
    if (got <= 0) goto done;
    in.length += (size_t)got;
    int finished = wire_scan_for_second_sync(&in);
    if (finished < 0) goto done;
    if (finished) break;
  }
  result = 1;
done:
  close(fd);
  return result;
}

