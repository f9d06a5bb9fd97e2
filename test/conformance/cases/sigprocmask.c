/*
 * Conformance case: rt_sigprocmask round trips (block, query, unblock, set), SIGKILL and
 * SIGSTOP never blocked, bad arguments; rt_sigaction queries of the default disposition.
 */
#include "../include/check.h"
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The kernel's sigset_t is 8 bytes on x86-64. */
typedef unsigned long ksigset;
#define BIT(s) (1UL << ((s) - 1))

int main(void) {
  check_begin();
  ksigset set, old;
  old = 12345;
  CHECK_RET("sigprocmask_query", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 8));
  printf("sigprocmask_initial: %#lx\n", old);
  set = BIT(SIGUSR1);
  CHECK_RET("sigprocmask_block_usr1", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, &old, 8));
  CHECK_RET("sigprocmask_query_after_block",
            syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 8));
  printf("sigprocmask_after_block: %#lx\n", old);
  set = BIT(SIGUSR2) | BIT(SIGKILL) | BIT(SIGSTOP);
  CHECK_RET("sigprocmask_block_kill_stop",
            syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8));
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 8);
  printf("sigprocmask_kill_stop_ignored: %#lx\n", old);
  set = BIT(SIGUSR1);
  CHECK_RET("sigprocmask_unblock_usr1",
            syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, &old, 8));
  printf("sigprocmask_old_before_unblock: %#lx\n", old);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 8);
  printf("sigprocmask_after_unblock: %#lx\n", old);
  set = BIT(SIGHUP) | BIT(SIGTERM);
  CHECK_RET("sigprocmask_setmask", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, &old, 8));
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &old, 8);
  printf("sigprocmask_after_setmask: %#lx\n", old);
  set = 0;
  CHECK_RET("sigprocmask_clear", syscall(SYS_rt_sigprocmask, SIG_SETMASK, &set, NULL, 8));
  CHECK_RET("sigprocmask_bad_how", syscall(SYS_rt_sigprocmask, 99, &set, NULL, 8));
  CHECK_RET("sigprocmask_bad_size", syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 4));
  CHECK_RET("sigprocmask_bad_pointer",
            syscall(SYS_rt_sigprocmask, SIG_BLOCK, BAD_PTR, NULL, 8));
  CHECK_RET("sigprocmask_bad_old_pointer",
            syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, BAD_PTR, 8));
  CHECK_RET("sigprocmask_null_both", syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, NULL, 8));

  /* glibc's sigprocmask agrees with the raw call. */
  sigset_t s, o;
  sigemptyset(&s);
  sigaddset(&s, SIGINT);
  CHECK_RET("glibc_sigprocmask_block", sigprocmask(SIG_BLOCK, &s, NULL));
  CHECK_RET("glibc_sigprocmask_query", sigprocmask(SIG_BLOCK, NULL, &o));
  check_true("glibc_sigprocmask_has_sigint", sigismember(&o, SIGINT) == 1, "SIGINT not set");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  CHECK_RET("sigaction_query_usr1", sigaction(SIGUSR1, NULL, &sa));
  check_true("sigaction_usr1_default", sa.sa_handler == SIG_DFL, "SIGUSR1 is not SIG_DFL");
  sa.sa_handler = SIG_IGN;
  CHECK_RET("sigaction_kill", sigaction(SIGKILL, &sa, NULL));
  CHECK_RET("sigaction_bad_signal", sigaction(99, &sa, NULL));
  return check_end();
}
