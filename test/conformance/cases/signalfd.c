/*
 * Conformance case: signalfd and signalfd4. Blocked signals are read as signalfd_siginfo
 * records (signo, code, pid), several in one read, lowest first; a short buffer, a bad mask
 * size, bad flags, a bad pointer and an fd that is not a signalfd are refused; the mask can be
 * changed on the same fd; readiness for poll and epoll; a blocking read woken by a child's
 * kill; a process-directed signal read from another thread.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <time.h>

static int sfd;
static long thread_got;

static void *thread_reader(void *arg) {
  (void)arg;
  struct signalfd_siginfo si;
  thread_got = read(sfd, &si, sizeof si) == (long)sizeof si ? (long)si.ssi_signo : -1;
  return NULL;
}

static void kill_me_later(int sig) {
  pid_t parent = getpid();
  if (fork() == 0) {
    struct timespec d = {0, 40 * 1000 * 1000};
    nanosleep(&d, NULL);
    kill(parent, sig);
    _exit(0);
  }
}

int main(void) {
  check_begin();
  sigset_t m;
  sigemptyset(&m);
  sigaddset(&m, SIGUSR1);
  sigaddset(&m, SIGUSR2);
  sigprocmask(SIG_BLOCK, &m, NULL);
  sfd = signalfd(-1, &m, SFD_NONBLOCK | SFD_CLOEXEC);
  CHECK_NONNEG("create", sfd);
  struct signalfd_siginfo si[2];
  CHECK_RET("read_nothing_pending", read(sfd, si, sizeof si[0]));
  CHECK_RET("read_short_buffer", read(sfd, si, 64));
  CHECK_RET("write_refused", write(sfd, si, sizeof si[0]));

  raise(SIGUSR1);
  struct pollfd p = {sfd, POLLIN, 0};
  CHECK_RET("poll_ready", poll(&p, 1, 0));
  CHECK_RET("read_one", read(sfd, si, sizeof si[0]));
  CHECK_RET("one_signo", si[0].ssi_signo);
  CHECK_RET("one_code_tkill", si[0].ssi_code);
  check_true("one_pid", si[0].ssi_pid == (uint32_t)getpid(), "ssi_pid is not ours");
  CHECK_RET("poll_not_ready", poll(&p, 1, 0));

  kill(getpid(), SIGUSR2);
  raise(SIGUSR1);
  CHECK_RET("read_two", read(sfd, si, sizeof si));
  CHECK_RET("two_first", si[0].ssi_signo);
  CHECK_RET("two_second", si[1].ssi_signo);
  CHECK_RET("two_second_code_user", si[1].ssi_code);

  /* A new mask on the same fd: SIGUSR1 is no longer read, and stays pending. */
  sigset_t only2;
  sigemptyset(&only2);
  sigaddset(&only2, SIGUSR2);
  CHECK_RET("remask_same_fd", signalfd(sfd, &only2, 0) == sfd);
  raise(SIGUSR1);
  CHECK_RET("read_masked_out", read(sfd, si, sizeof si[0]));
  sigset_t pend;
  sigpending(&pend);
  CHECK_RET("still_pending", sigismember(&pend, SIGUSR1));
  signalfd(sfd, &m, 0);
  read(sfd, si, sizeof si[0]);

  CHECK_RET("bad_sizemask", syscall(SYS_signalfd4, -1, &m, 4, 0));
  CHECK_RET("bad_flags", signalfd(-1, &m, 0x10));
  CHECK_RET("bad_mask_pointer", syscall(SYS_signalfd4, -1, BAD_PTR, 8, 0));
  CHECK_RET("not_a_signalfd", signalfd(1, &m, 0));
  CHECK_RET("bad_fd", signalfd(-5, &m, 0));
  CHECK_RET("old_signalfd_call", syscall(SYS_signalfd, -1, &m, 8) >= 0);
  sigset_t killonly;
  sigemptyset(&killonly);
  sigaddset(&killonly, SIGKILL);
  CHECK_NONNEG("sigkill_in_mask_ignored", signalfd(-1, &killonly, 0));

  /* A blocking read (a blocking fd) woken by a child's kill. */
  int bfd = signalfd(-1, &m, 0);
  kill_me_later(SIGUSR2);
  CHECK_RET("blocking_read_woken", read(bfd, si, sizeof si[0]));
  CHECK_RET("blocking_read_signo", si[0].ssi_signo);
  wait(NULL);

  /* epoll over the signalfd. */
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data.u32 = 3};
  epoll_ctl(ep, EPOLL_CTL_ADD, bfd, &ev);
  kill_me_later(SIGUSR1);
  struct epoll_event out;
  CHECK_RET("epoll_woken", epoll_wait(ep, &out, 1, 5000));
  read(bfd, si, sizeof si[0]);
  wait(NULL);

  /* A process-directed signal, every thread blocking it, read by a second thread. */
  fcntl(sfd, F_SETFL, 0);
  pthread_t th;
  pthread_create(&th, NULL, thread_reader, NULL);
  struct timespec d = {0, 30 * 1000 * 1000};
  nanosleep(&d, NULL);
  kill(getpid(), SIGUSR2);
  pthread_join(th, NULL);
  CHECK_RET("thread_read_process_signal", thread_got);
  return check_end();
}
