/*
 * Socket helpers shared by the socket cases: one line of poll(2) readiness and one
 * socket option as an int.
 * What it must never do: print anything but the named line.
 */
#ifndef MOAT_CONFORMANCE_SOCK_H
#define MOAT_CONFORMANCE_SOCK_H

#include "check.h"

#include <poll.h>
#include <sys/socket.h>

/* The readiness of fd, asked for IN, OUT and RDHUP, without waiting. */
static __attribute__((unused)) void print_poll(const char *name, int fd) {
  struct pollfd p = {fd, POLLIN | POLLOUT | POLLRDHUP, 0};
  int r = poll(&p, 1, 0);
  printf("%s: ret=%d in=%d out=%d hup=%d rdhup=%d err=%d\n", name, r, !!(p.revents & POLLIN),
         !!(p.revents & POLLOUT), !!(p.revents & POLLHUP), !!(p.revents & POLLRDHUP),
         !!(p.revents & POLLERR));
}

/* An int option of fd, or -errno. */
static __attribute__((unused)) int sock_opt(int fd, int level, int name) {
  int v = -1;
  socklen_t l = sizeof v;
  if (getsockopt(fd, level, name, &v, &l) != 0) return -errno;
  return v;
}

#endif
