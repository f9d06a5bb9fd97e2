/*
 * Conformance case: readiness with poll, ppoll, select and pselect6 on files the program makes
 * itself: an empty and a filled pipe, a pipe whose writer is gone (POLLHUP) or whose reader is
 * gone (POLLERR), a regular file (always ready), a negative fd (ignored), a closed fd
 * (POLLNVAL; EBADF for select), zero timeouts, a short timeout that expires, bad pointers and
 * bad arguments.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define BAD_PTR ((void *)1)

int main(void) {
  check_begin();
  signal(SIGPIPE, SIG_IGN);
  int p[2];
  CHECK_RET("pipe", pipe(p));
  struct pollfd fds[3];
  fds[0] = (struct pollfd){.fd = p[0], .events = POLLIN};
  fds[1] = (struct pollfd){.fd = p[1], .events = POLLOUT};
  fds[2] = (struct pollfd){.fd = -1, .events = POLLIN};
  CHECK_RET("poll_empty_pipe", syscall(SYS_poll, fds, 3, 0));
  printf("revents_empty: %#x %#x %#x\n", fds[0].revents, fds[1].revents, fds[2].revents);
  CHECK_RET("write", write(p[1], "x", 1));
  CHECK_RET("poll_filled_pipe", syscall(SYS_poll, fds, 3, 0));
  printf("revents_filled: %#x %#x\n", fds[0].revents, fds[1].revents);

  /* A short timeout expires with nothing ready. */
  char c;
  CHECK_RET("drain", read(p[0], &c, 1));
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  CHECK_RET("poll_timeout", syscall(SYS_poll, fds, 1, 30));
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
  check_true("poll_waited", ms >= 25, "returned before the timeout");

  /* ppoll with a timespec and a signal mask. */
  struct timespec zero = {0, 0};
  sigset_t mask;
  sigemptyset(&mask);
  CHECK_RET("ppoll_zero", syscall(SYS_ppoll, fds, 2, &zero, &mask, 8));
  struct timespec badts = {0, 2000000000L};
  CHECK_RET("ppoll_bad_timespec", syscall(SYS_ppoll, fds, 1, &badts, NULL, 8));
  CHECK_RET("ppoll_bad_sigsetsize", syscall(SYS_ppoll, fds, 1, &zero, &mask, 4));

  /* A regular file is always ready; a closed fd is POLLNVAL. */
  int f = open("/proc/self/exe", O_RDONLY);
  if (f < 0) f = open("/bin/sh", O_RDONLY);
  int closed = dup(f);
  close(closed);
  struct pollfd more[2] = {{.fd = f, .events = POLLIN | POLLOUT}, {.fd = closed, .events = POLLIN}};
  CHECK_RET("poll_file_and_closed", syscall(SYS_poll, more, 2, 0));
  printf("revents_file: %#x nval: %#x\n", more[0].revents, more[1].revents);

  /* Hang-up and error. */
  int q[2];
  pipe(q);
  close(q[1]);
  struct pollfd hup = {.fd = q[0], .events = POLLIN};
  CHECK_RET("poll_writer_gone", syscall(SYS_poll, &hup, 1, 0));
  printf("revents_hup: %#x\n", hup.revents);
  int r[2];
  pipe(r);
  close(r[0]);
  struct pollfd err = {.fd = r[1], .events = POLLOUT};
  CHECK_RET("poll_reader_gone", syscall(SYS_poll, &err, 1, 0));
  printf("revents_err: %#x\n", err.revents);

  /* Bad arguments. */
  CHECK_RET("poll_bad_pointer", syscall(SYS_poll, BAD_PTR, 1, 0));
  CHECK_RET("poll_too_many", syscall(SYS_poll, fds, 1 << 30, 0));
  CHECK_RET("poll_none", syscall(SYS_poll, NULL, 0, 0));

  /* select and pselect6. */
  fd_set rd, wr;
  FD_ZERO(&rd);
  FD_ZERO(&wr);
  FD_SET(p[0], &rd);
  FD_SET(p[1], &wr);
  struct timeval tv = {0, 0};
  CHECK_RET("select_write_ready", syscall(SYS_select, p[1] + 1, &rd, &wr, NULL, &tv));
  printf("select_sets: rd=%d wr=%d\n", FD_ISSET(p[0], &rd), FD_ISSET(p[1], &wr));
  write(p[1], "y", 1);
  FD_ZERO(&rd);
  FD_SET(p[0], &rd);
  CHECK_RET("pselect_read_ready", syscall(SYS_pselect6, p[0] + 1, &rd, NULL, NULL, &zero, NULL));
  printf("pselect_rd: %d\n", FD_ISSET(p[0], &rd));
  fd_set bad;
  FD_ZERO(&bad);
  FD_SET(closed, &bad);
  CHECK_RET("select_closed_fd", syscall(SYS_select, closed + 1, &bad, NULL, NULL, &tv));
  CHECK_RET("select_negative_nfds", syscall(SYS_select, -1, NULL, NULL, NULL, &tv));
  CHECK_RET("select_bad_set", syscall(SYS_select, 4, BAD_PTR, NULL, NULL, &tv));
  struct timeval badtv = {-1, 0};
  CHECK_RET("select_bad_timeout", syscall(SYS_select, 1, NULL, NULL, NULL, &badtv));
  return check_end();
}
