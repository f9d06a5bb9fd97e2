/*
 * Conformance case: system calls interrupted by a signal. A blocking read of a pipe and a
 * wait4 are restarted after a handler installed with SA_RESTART, and fail with EINTR after
 * one without it; a signal the process ignores interrupts nothing. The signal comes from a
 * child, 100 ms after the parent started waiting.
 */
#include "../include/check.h"
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t handled;
static void on_usr1(int sig) {
  (void)sig;
  handled++;
}

static void nap(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* A child that signals the parent after 100 ms, then writes a byte after 200 ms and exits. */
static pid_t signaller(int sig, int wfd) {
  pid_t parent = getpid();
  pid_t c = fork();
  if (c == 0) {
    nap(100);
    kill(parent, sig);
    nap(100);
    if (wfd >= 0) write(wfd, "x", 1);
    _exit(0);
  }
  return c;
}

static void install(int flags) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_usr1;
  sa.sa_flags = flags;
  sigaction(SIGUSR1, &sa, NULL);
}

int main(void) {
  check_begin();
  fflush(stdout);
  int p[2];
  char b;

  install(SA_RESTART);
  handled = 0;
  pipe(p);
  pid_t c = signaller(SIGUSR1, p[1]);
  CHECK_RET("read_restarted", read(p[0], &b, 1));
  printf("read_restarted_handled: %d\n", (int)handled);
  waitpid(c, NULL, 0);
  close(p[0]);
  close(p[1]);

  install(0);
  handled = 0;
  pipe(p);
  c = signaller(SIGUSR1, p[1]);
  CHECK_RET("read_interrupted", read(p[0], &b, 1));
  printf("read_interrupted_handled: %d\n", (int)handled);
  waitpid(c, NULL, 0);
  close(p[0]);
  close(p[1]);

  install(SA_RESTART);
  handled = 0;
  c = signaller(SIGUSR1, -1);
  int st = 0;
  check_true("wait4_restarted", wait4(c, &st, 0, NULL) == c, "wait4 did not return the child");
  printf("wait4_restarted_handled: %d\n", (int)handled);

  install(0);
  handled = 0;
  c = signaller(SIGUSR1, -1);
  CHECK_RET("wait4_interrupted", wait4(c, &st, 0, NULL));
  printf("wait4_interrupted_handled: %d\n", (int)handled);
  waitpid(c, NULL, 0);

  signal(SIGUSR2, SIG_IGN);
  pipe(p);
  c = signaller(SIGUSR2, p[1]);
  CHECK_RET("read_ignored_signal", read(p[0], &b, 1));
  waitpid(c, NULL, 0);
  return check_end();
}
