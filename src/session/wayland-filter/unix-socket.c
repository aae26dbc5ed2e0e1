#define _GNU_SOURCE
#include "unix-socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_address(const char *path, struct sockaddr_un *address) {
  memset(address, 0, sizeof *address);
  address->sun_family = AF_UNIX;
  if (strlen(path) >= sizeof address->sun_path) {
    errno = ENAMETOOLONG;
    return -1;
  }
  strcpy(address->sun_path, path);
  return 0;
}

int unix_connect(const char *path) {
  struct sockaddr_un address;
  if (unix_address(path, &address) < 0) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *)&address, sizeof address) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int unix_listen(const char *path) {
  struct sockaddr_un address;
  if (unix_address(path, &address) < 0) return -1;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  unlink(path);
  if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0 || listen(fd, 16) < 0) {
    int saved = errno;
    close(fd);
    errno = saved;
    return -1;
  }
  return fd;
}

int unix_send(int to, const uint8_t *data, size_t length, int *fds, int *fd_count, int close_sent) {
  while (length > 0) {
    int count = *fd_count < UNIX_MAX_FDS_PER_MESSAGE ? *fd_count : UNIX_MAX_FDS_PER_MESSAGE;
    size_t piece = *fd_count > UNIX_MAX_FDS_PER_MESSAGE && length > 4 ? 4 : length;
    struct iovec iov = {.iov_base = (void *)data, .iov_len = piece};
    char control[CMSG_SPACE(sizeof(int) * UNIX_MAX_FDS_PER_MESSAGE)];
    struct msghdr message = {.msg_iov = &iov, .msg_iovlen = 1};
    if (count > 0) {
      memset(control, 0, sizeof control);
      message.msg_control = control;
      message.msg_controllen = CMSG_SPACE(sizeof(int) * count);
      struct cmsghdr *header = CMSG_FIRSTHDR(&message);
      header->cmsg_level = SOL_SOCKET;
      header->cmsg_type = SCM_RIGHTS;
      header->cmsg_len = CMSG_LEN(sizeof(int) * count);
      memcpy(CMSG_DATA(header), fds, sizeof(int) * count);
    }
    ssize_t sent = sendmsg(to, &message, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (close_sent) {
      for (int i = 0; i < count; i++) close(fds[i]);
    }
    memmove(fds, fds + count, sizeof(int) * (*fd_count - count));
    *fd_count -= count;
    data += sent;
    length -= (size_t)sent;
  }
  return 0;
}
