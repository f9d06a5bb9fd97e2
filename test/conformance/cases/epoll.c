/*
 * Conformance case: eventfd and epoll. eventfd counters (plain and EFD_SEMAPHORE, short
 * buffers, EAGAIN when non-blocking, the overflow value), and epoll over pipes and eventfds:
 * level-triggered, edge-triggered and one-shot reporting, EPOLL_CTL_MOD/DEL and their errors
 * (EEXIST, ENOENT, EPERM for a regular file, EINVAL for itself, ELOOP), timeouts, an epoll fd
 * inside another, a wait woken by a child's write, and an entry dropped when its file closes.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

static void show(const char *name, int n, struct epoll_event *ev) {
  printf("%s: n=%d", name, n);
  for (int i = 0; i < n; i++) printf(" [0x%x %llu]", ev[i].events, (unsigned long long)ev[i].data.u64);
  printf("\n");
}

int main(void) {
  check_begin();
  fflush(stdout);
  uint64_t v = 0;

  int e = eventfd(3, EFD_NONBLOCK);
  CHECK_RET("eventfd_read", read(e, &v, 8));
  printf("eventfd_value: %llu\n", (unsigned long long)v);
  CHECK_RET("eventfd_read_empty", read(e, &v, 8));
  CHECK_RET("eventfd_read_short", read(e, &v, 4));
  v = 5;
  CHECK_RET("eventfd_write", write(e, &v, 8));
  v = 0xffffffffffffffffULL;
  CHECK_RET("eventfd_write_max", write(e, &v, 8));
  v = 0xfffffffffffffffeULL;
  CHECK_RET("eventfd_write_overflow", write(e, &v, 8));
  close(e);
  int s = eventfd(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  read(s, &v, 8);
  printf("semaphore_first: %llu\n", (unsigned long long)v);
  read(s, &v, 8);
  CHECK_RET("semaphore_empty", read(s, &v, 8));
  CHECK_RET("eventfd2_bad_flags", syscall(SYS_eventfd2, 0, 0x10));

  int ep = epoll_create1(EPOLL_CLOEXEC);
  check_true("epoll_create1", ep >= 0, "no epoll fd");
  CHECK_RET("epoll_create_zero", epoll_create(0));
  CHECK_RET("epoll_create1_bad", epoll_create1(1));
  int p[2];
  pipe(p);
  struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
  CHECK_RET("ctl_add", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
  CHECK_RET("ctl_add_again", epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev));
  CHECK_RET("ctl_mod_missing", epoll_ctl(ep, EPOLL_CTL_MOD, p[1], &ev));
  CHECK_RET("ctl_del_missing", epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL));
  CHECK_RET("ctl_self", epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev));
  int reg = open("/proc/self/cmdline", O_RDONLY);
  int file = open("/", O_RDONLY | O_DIRECTORY);
  CHECK_RET("ctl_directory", epoll_ctl(ep, EPOLL_CTL_ADD, file, &ev));
  CHECK_RET("ctl_bad_fd", epoll_ctl(ep, EPOLL_CTL_ADD, 999, &ev));
  CHECK_RET("ctl_not_epoll", epoll_ctl(p[0], EPOLL_CTL_ADD, p[1], &ev));
  CHECK_RET("ctl_bad_op", epoll_ctl(ep, 9, p[0], &ev));
  CHECK_RET("ctl_bad_event_ptr", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], (struct epoll_event *)8));
  close(reg);
  close(file);

  struct epoll_event out[8];
  CHECK_RET("wait_nothing", epoll_wait(ep, out, 8, 0));
  CHECK_RET("wait_timeout", epoll_wait(ep, out, 8, 20));
  CHECK_RET("wait_bad_max", epoll_wait(ep, out, 0, 0));
  CHECK_RET("wait_not_epoll", epoll_wait(p[0], out, 8, 0));
  write(p[1], "ab", 2);
  int n = epoll_wait(ep, out, 8, 0);
  show("level_1", n, out);
  n = epoll_wait(ep, out, 8, 0);
  show("level_2", n, out);

  /* Edge-triggered: once per change. */
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = 8;
  CHECK_RET("ctl_mod_et", epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev));
  n = epoll_wait(ep, out, 8, 0);
  show("edge_1", n, out);
  n = epoll_wait(ep, out, 8, 0);
  show("edge_2", n, out);
  write(p[1], "c", 1);
  n = epoll_wait(ep, out, 8, 0);
  show("edge_3", n, out);

  /* One-shot: disabled after one report, until MOD. */
  ev.events = EPOLLIN | EPOLLONESHOT;
  ev.data.u64 = 9;
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
  n = epoll_wait(ep, out, 8, 0);
  show("oneshot_1", n, out);
  n = epoll_wait(ep, out, 8, 0);
  show("oneshot_2", n, out);
  epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev);
  n = epoll_wait(ep, out, 8, 0);
  show("oneshot_rearmed", n, out);
  CHECK_RET("ctl_del", epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL));
  n = epoll_wait(ep, out, 8, 0);
  show("after_del", n, out);

  /* The write end: writable, and POLLERR once the reader is gone. */
  ev.events = EPOLLOUT;
  ev.data.u64 = 10;
  epoll_ctl(ep, EPOLL_CTL_ADD, p[1], &ev);
  n = epoll_wait(ep, out, 8, 0);
  show("writable", n, out);
  close(p[0]);
  n = epoll_wait(ep, out, 8, 0);
  show("reader_gone", n, out);
  epoll_ctl(ep, EPOLL_CTL_DEL, p[1], NULL);
  close(p[1]);

  /* Nested epoll, and a loop. */
  int inner = epoll_create1(0);
  int ev2 = eventfd(1, 0);
  ev.events = EPOLLIN;
  ev.data.u64 = 11;
  epoll_ctl(inner, EPOLL_CTL_ADD, ev2, &ev);
  ev.data.u64 = 12;
  CHECK_RET("ctl_add_nested", epoll_ctl(ep, EPOLL_CTL_ADD, inner, &ev));
  CHECK_RET("ctl_add_loop", epoll_ctl(inner, EPOLL_CTL_ADD, ep, &ev));
  n = epoll_wait(ep, out, 8, 0);
  show("nested", n, out);
  epoll_ctl(ep, EPOLL_CTL_DEL, inner, NULL);

  /* A blocking wait that a child's write ends. */
  int q[2];
  pipe(q);
  ev.events = EPOLLIN;
  ev.data.u64 = 13;
  epoll_ctl(ep, EPOLL_CTL_ADD, q[0], &ev);
  pid_t c = fork();
  if (c == 0) {
    usleep(50000);
    write(q[1], "z", 1);
    _exit(0);
  }
  n = epoll_wait(ep, out, 8, 5000);
  show("woken_by_child", n, out);
  waitpid(c, NULL, 0);

  /* An entry lives as long as its file: a dup keeps it (the fd number is only its key);
   * closing the last fd of the file drops it. */
  signal(SIGPIPE, SIG_IGN);
  char z;
  read(q[0], &z, 1);
  int d = dup(q[0]);
  close(q[0]);
  write(q[1], "y", 1);
  n = epoll_wait(ep, out, 8, 0);
  show("dup_keeps_entry", n, out);
  close(d);
  CHECK_RET("write_no_reader", write(q[1], "y", 1));
  n = epoll_wait(ep, out, 8, 0);
  show("closed_entry", n, out);
  return check_end();
}
