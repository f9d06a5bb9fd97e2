/*
 * Conformance case: calls parked on files wake for what they wait on. Forty threads park in
 * read(2) on pipes of their own while the main thread makes many calls, then each is woken by
 * a write to its pipe; a full pipe's writer is woken by a read; an eventfd read, poll, select,
 * epoll (level and edge-triggered, and an epoll watching an epoll) in a thread are each woken
 * by another thread's or process's write; a signal ends a blocking pipe write part-way; a poll is woken by the last writer's close (POLLHUP);
 * sigsuspend and pause are woken by a signal from a child. Nothing variable is printed.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/time.h>
#include <time.h>

#define N 40
static int pipes[N][2];
static int got[N];
static int parked;

static void on_usr1(int s) { (void)s; }

static void pause_ms(int ms) {
  struct timespec d = {0, ms * 1000L * 1000L};
  nanosleep(&d, NULL);
}

static void *reader(void *arg) {
  int i = (int)(intptr_t)arg;
  char c = 0;
  __atomic_add_fetch(&parked, 1, __ATOMIC_SEQ_CST);
  if (read(pipes[i][0], &c, 1) == 1 && c == (char)('a' + i % 26)) got[i] = 1;
  return NULL;
}

struct waiter {
  int fd;
  int kind; /* 0 read eventfd, 1 poll, 2 select, 3 epoll_wait */
  long result;
};

static void *wait_one(void *arg) {
  struct waiter *w = arg;
  if (w->kind == 0) {
    uint64_t v = 0;
    w->result = read(w->fd, &v, 8) == 8 ? (long)v : -1;
  } else if (w->kind == 1) {
    struct pollfd p = {w->fd, POLLIN, 0};
    w->result = poll(&p, 1, 10000) == 1 ? p.revents : -1;
  } else if (w->kind == 2) {
    fd_set r;
    FD_ZERO(&r);
    FD_SET(w->fd, &r);
    struct timeval tv = {10, 0};
    w->result = select(w->fd + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(w->fd, &r);
  } else {
    struct epoll_event ev;
    w->result = epoll_wait(w->fd, &ev, 1, 10000) == 1 ? (long)ev.data.u32 : -1;
  }
  return NULL;
}

/* Runs a waiter of `kind` on `fd` in a thread and wakes it with `wake` after it has parked. */
static long woken(int kind, int fd, void (*wake)(void *), void *arg) {
  struct waiter w = {fd, kind, -2};
  pthread_t t;
  pthread_create(&t, NULL, wait_one, &w);
  pause_ms(30);
  wake(arg);
  pthread_join(t, NULL);
  return w.result;
}

static void write_byte(void *arg) {
  int fd = *(int *)arg;
  char c = 'x';
  if (write(fd, &c, 1) != 1) _exit(9);
}

static void write_counter(void *arg) {
  uint64_t v = 5;
  if (write(*(int *)arg, &v, 8) != 8) _exit(9);
}

static void close_fd(void *arg) { close(*(int *)arg); }

/* A child process writes after a while: the parent's wait is woken across processes. */
static void write_from_child(void *arg) {
  pid_t p = fork();
  if (p == 0) {
    write_byte(arg);
    _exit(0);
  }
  waitpid(p, NULL, 0);
}

static void signal_me_later(void) {
  pid_t parent = getpid();
  if (fork() == 0) {
    pause_ms(50);
    kill(parent, SIGUSR1);
    _exit(0);
  }
}

int main(void) {
  check_begin();
  /* Forty parked readers; meanwhile the main thread's calls still complete. */
  pthread_t t[N];
  for (int i = 0; i < N; i++) {
    if (pipe(pipes[i]) != 0) return 1;
    pthread_create(&t[i], NULL, reader, (void *)(intptr_t)i);
  }
  while (__atomic_load_n(&parked, __ATOMIC_SEQ_CST) < N) sched_yield();
  pause_ms(30);
  long sum = 0;
  for (int i = 0; i < 2000; i++) sum += getppid() >= 0;
  check_true("calls_while_parked", sum == 2000, "getppid failed");
  for (int i = 0; i < N; i++) {
    char c = (char)('a' + i % 26);
    if (write(pipes[i][1], &c, 1) != 1) return 1;
  }
  int all = 1;
  for (int i = 0; i < N; i++) {
    pthread_join(t[i], NULL);
    all &= got[i];
  }
  check_true("pipe_readers_woken", all, "a reader did not get its byte");

  /* A writer parked on a full pipe, woken when the reader drains it. */
  int full[2];
  pipe(full);
  static char big[70000];
  pid_t w = fork();
  if (w == 0) _exit(write(full[1], big, sizeof big) == (long)sizeof big ? 0 : 1);
  pause_ms(30);
  long drained = 0;
  for (;;) {
    long n = read(full[0], big, sizeof big);
    if (n <= 0) break;
    drained += n;
    if (drained == (long)sizeof big) break;
  }
  int st = 0;
  waitpid(w, &st, 0);
  check_true("full_pipe_writer_woken", WIFEXITED(st) && WEXITSTATUS(st) == 0 && drained == (long)sizeof big,
             "the writer did not finish");

  /* A signal ends a blocking write part-way: the call returns what it wrote. */
  int stuck[2];
  pipe(stuck);
  pid_t sw = fork();
  if (sw == 0) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval it = {{0, 0}, {0, 50 * 1000}};
    setitimer(ITIMER_REAL, &it, NULL);
    static char huge[100000];
    CHECK_RET("write_interrupted_part_way", write(stuck[1], huge, sizeof huge));
    _exit(0);
  }
  waitpid(sw, NULL, 0);
  close(stuck[0]);
  close(stuck[1]);

  int efd = eventfd(0, 0);
  CHECK_RET("eventfd_read_woken", woken(0, efd, write_counter, &efd));

  int p1[2];
  pipe(p1);
  CHECK_RET("poll_woken_by_write", woken(1, p1[0], write_byte, &p1[1]));
  char c;
  read(p1[0], &c, 1);
  CHECK_RET("select_woken_by_write", woken(2, p1[0], write_byte, &p1[1]));
  read(p1[0], &c, 1);
  CHECK_RET("poll_woken_by_child_write", woken(1, p1[0], write_from_child, &p1[1]));
  read(p1[0], &c, 1);
  CHECK_RET("poll_woken_by_close", woken(1, p1[0], close_fd, &p1[1]));

  int p2[2];
  pipe(p2);
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 7};
  epoll_ctl(ep, EPOLL_CTL_ADD, p2[0], &ev);
  CHECK_RET("epoll_level_woken", woken(3, ep, write_byte, &p2[1]));
  CHECK_RET("epoll_level_still_ready", woken(3, ep, write_byte, &p2[1]));
  read(p2[0], big, 16);
  int ep2 = epoll_create1(0);
  struct epoll_event ev2 = {.events = EPOLLIN | EPOLLET, .data.u32 = 8};
  epoll_ctl(ep2, EPOLL_CTL_ADD, p2[0], &ev2);
  CHECK_RET("epoll_edge_woken", woken(3, ep2, write_byte, &p2[1]));
  CHECK_RET("epoll_edge_woken_again", woken(3, ep2, write_byte, &p2[1]));
  read(p2[0], big, 16);
  int outer = epoll_create1(0);
  struct epoll_event ev3 = {.events = EPOLLIN, .data.u32 = 9};
  epoll_ctl(outer, EPOLL_CTL_ADD, ep, &ev3);
  CHECK_RET("epoll_of_epoll_woken", woken(3, outer, write_byte, &p2[1]));

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sigaction(SIGUSR1, &sa, NULL);
  sigset_t block, old, none;
  sigemptyset(&block);
  sigaddset(&block, SIGUSR1);
  sigprocmask(SIG_BLOCK, &block, &old);
  signal_me_later();
  sigemptyset(&none);
  CHECK_RET("sigsuspend_woken", sigsuspend(&none));
  sigprocmask(SIG_SETMASK, &old, NULL);
  wait(NULL);
  signal_me_later();
  CHECK_RET("pause_woken", pause());
  wait(NULL);
  return check_end();
}
