/*
 * Conformance case: rt_sigtimedwait (sigwaitinfo, sigtimedwait, sigwait). A pending blocked
 * signal is taken at once with its siginfo; a zero timeout and an expired one give EAGAIN; a
 * wait is woken by a child's kill and by a process-directed signal while another thread waits;
 * an unrelated handled signal interrupts with EINTR; bad arguments are refused.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>

static void on_usr2(int s) { (void)s; }

static void kill_me_later(int sig, int ms) {
  pid_t parent = getpid();
  if (fork() == 0) {
    struct timespec d = {0, ms * 1000L * 1000L};
    nanosleep(&d, NULL);
    kill(parent, sig);
    _exit(0);
  }
}

static sigset_t waitset;
static int thread_sig;
static void *waiter(void *arg) {
  (void)arg;
  int s = 0;
  thread_sig = sigwait(&waitset, &s) == 0 ? s : -1;
  return NULL;
}

int main(void) {
  check_begin();
  sigemptyset(&waitset);
  sigaddset(&waitset, SIGUSR1);
  sigaddset(&waitset, SIGTERM);
  sigprocmask(SIG_BLOCK, &waitset, NULL);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr2;
  sigaction(SIGUSR2, &sa, NULL);

  siginfo_t si;
  raise(SIGUSR1);
  CHECK_RET("take_pending", sigwaitinfo(&waitset, &si));
  CHECK_RET("take_pending_signo", si.si_signo);
  CHECK_RET("take_pending_code", si.si_code);
  check_true("take_pending_pid", si.si_pid == getpid(), "si_pid is not ours");
  struct timespec zero = {0, 0};
  CHECK_RET("zero_timeout_eagain", sigtimedwait(&waitset, &si, &zero));
  struct timespec short_wait = {0, 20 * 1000 * 1000};
  CHECK_RET("timeout_eagain", sigtimedwait(&waitset, &si, &short_wait));

  kill_me_later(SIGTERM, 30);
  struct timespec long_wait = {10, 0};
  CHECK_RET("woken_by_child_kill", sigtimedwait(&waitset, &si, &long_wait));
  CHECK_RET("woken_code_user", si.si_code);
  wait(NULL);

  kill_me_later(SIGUSR2, 30);
  CHECK_RET("interrupted_by_handler", sigtimedwait(&waitset, &si, &long_wait));
  wait(NULL);

  CHECK_RET("null_info", (raise(SIGUSR1), sigwaitinfo(&waitset, NULL)));

  pthread_t th;
  pthread_create(&th, NULL, waiter, NULL);
  struct timespec d = {0, 30 * 1000 * 1000};
  nanosleep(&d, NULL);
  kill(getpid(), SIGUSR1);
  pthread_join(th, NULL);
  CHECK_RET("thread_woken_by_process_signal", thread_sig);

  CHECK_RET("bad_setsize", syscall(SYS_rt_sigtimedwait, &waitset, &si, &zero, 4));
  CHECK_RET("bad_set_pointer", syscall(SYS_rt_sigtimedwait, BAD_PTR, &si, &zero, 8));
  struct timespec bad = {0, 1000000000L};
  CHECK_RET("bad_timeout", sigtimedwait(&waitset, &si, &bad));
  CHECK_RET("bad_timeout_pointer", syscall(SYS_rt_sigtimedwait, &waitset, &si, BAD_PTR, 8));
  raise(SIGUSR1);
  CHECK_RET("bad_info_pointer", syscall(SYS_rt_sigtimedwait, &waitset, BAD_PTR, &zero, 8));
  return check_end();
}
