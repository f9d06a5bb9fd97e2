/*
 * Conformance case: signal delivery to handlers installed with rt_sigaction: a fault on a
 * read-only page (SIGSEGV, SEGV_ACCERR, si_addr exact) and on an unmapped one
 * (SEGV_MAPERR), kill/tgkill to oneself, a blocked signal staying pending until unblocked,
 * SIG_IGN, SA_RESETHAND, the handler's mask (sa_mask plus the signal itself), sigaltstack,
 * and execution resuming after sigreturn with registers intact.
 */
#include "../include/check.h"
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

static sigjmp_buf jump;
static volatile sig_atomic_t got_signo, got_code, handled;
static void *volatile got_addr;
static volatile unsigned long mask_in_handler;
static volatile int on_altstack;

static void fault_handler(int signo, siginfo_t *info, void *uctx) {
  (void)uctx;
  got_signo = signo;
  got_code = info->si_code;
  got_addr = info->si_addr;
  siglongjmp(jump, 1);
}

static void count_handler(int signo, siginfo_t *info, void *uctx) {
  (void)uctx;
  got_signo = signo;
  got_code = info->si_code;
  handled++;
  unsigned long m = 0;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
  mask_in_handler = m;
  stack_t ss;
  syscall(SYS_sigaltstack, NULL, &ss);
  on_altstack = (ss.ss_flags & SS_ONSTACK) != 0;
}

static int install(int signo, void (*h)(int, siginfo_t *, void *), int flags, int extra_mask) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = h;
  sa.sa_flags = SA_SIGINFO | flags;
  sigemptyset(&sa.sa_mask);
  if (extra_mask) sigaddset(&sa.sa_mask, extra_mask);
  return sigaction(signo, &sa, NULL);
}

#define BIT(s) (1UL << ((s) - 1))

int main(void) {
  check_begin();
  long page = 4096;
  unsigned char *ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK_RET("install_segv", install(SIGSEGV, fault_handler, SA_NODEFER, 0));
  got_signo = 0;
  if (sigsetjmp(jump, 1) == 0) {
    ro[100] = 1;
    printf("write_read_only_page: FAIL no fault\n");
  } else {
    printf("write_read_only_page: signo=%d code=%s addr_exact=%d\n", (int)got_signo,
           got_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other", got_addr == ro + 100);
  }
  munmap(ro, page);
  if (sigsetjmp(jump, 1) == 0) {
    volatile unsigned char x = ro[5];
    (void)x;
    printf("read_unmapped_page: FAIL no fault\n");
  } else {
    printf("read_unmapped_page: signo=%d code=%s addr_exact=%d\n", (int)got_signo,
           got_code == SEGV_MAPERR ? "SEGV_MAPERR" : "other", got_addr == ro + 5);
  }
  /* A later, unexpected fault must kill the program, not jump back to a stale sigsetjmp. */
  signal(SIGSEGV, SIG_DFL);
  unsigned long m = 0;
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
  printf("mask_restored_after_siglongjmp: %#lx\n", m);

  /* kill to oneself: the handler runs before kill returns, with the signal and sa_mask
   * blocked, and the old mask comes back after sigreturn. */
  CHECK_RET("install_usr1", install(SIGUSR1, count_handler, 0, SIGUSR2));
  handled = 0;
  long r = syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
  printf("kill_self: ret=%ld handled=%d signo=%d code=%s\n", r, (int)handled, (int)got_signo,
         got_code == SI_USER ? "SI_USER" : "other");
  printf("mask_in_handler: %#lx\n", mask_in_handler);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, NULL, &m, 8);
  printf("mask_after_sigreturn: %#lx\n", m);
  handled = 0;
  r = syscall(SYS_tgkill, syscall(SYS_getpid), syscall(SYS_gettid), SIGUSR1);
  printf("tgkill_self: ret=%ld handled=%d code=%s\n", r, (int)handled,
         got_code == SI_TKILL ? "SI_TKILL" : "other");

  /* Blocked: pending, not delivered, until unblocked. */
  unsigned long set = BIT(SIGUSR1);
  syscall(SYS_rt_sigprocmask, SIG_BLOCK, &set, NULL, 8);
  handled = 0;
  syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
  syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
  printf("blocked_not_delivered: handled=%d\n", (int)handled);
  unsigned long pend = 0;
  CHECK_RET("rt_sigpending", syscall(SYS_rt_sigpending, &pend, 8));
  printf("pending_set: %#lx\n", pend);
  syscall(SYS_rt_sigprocmask, SIG_UNBLOCK, &set, NULL, 8);
  printf("delivered_once_on_unblock: handled=%d\n", (int)handled);

  /* SIG_IGN: nothing happens. SA_RESETHAND: the second signal finds SIG_DFL (checked by
   * querying, not by dying). */
  signal(SIGUSR2, SIG_IGN);
  CHECK_RET("kill_ignored", syscall(SYS_kill, syscall(SYS_getpid), SIGUSR2));
  CHECK_RET("install_resethand", install(SIGUSR2, count_handler, SA_RESETHAND, 0));
  handled = 0;
  syscall(SYS_kill, syscall(SYS_getpid), SIGUSR2);
  struct sigaction q;
  memset(&q, 0, sizeof q);
  sigaction(SIGUSR2, NULL, &q);
  printf("resethand: handled=%d now_default=%d\n", (int)handled, q.sa_handler == SIG_DFL);

  /* sigaltstack: the handler runs on it when SA_ONSTACK is set. */
  static char alt[65536];
  stack_t tiny = {.ss_sp = alt, .ss_size = 100, .ss_flags = 0};
  CHECK_RET("sigaltstack_too_small", syscall(SYS_sigaltstack, &tiny, NULL));
  stack_t ss = {.ss_sp = alt, .ss_size = sizeof alt, .ss_flags = 0};
  CHECK_RET("sigaltstack_set", syscall(SYS_sigaltstack, &ss, NULL));
  stack_t old;
  memset(&old, 0, sizeof old);
  CHECK_RET("sigaltstack_query", syscall(SYS_sigaltstack, NULL, &old));
  printf("sigaltstack_values: sp_ok=%d size=%zu flags=%d\n", old.ss_sp == alt, old.ss_size,
         old.ss_flags);
  CHECK_RET("install_onstack", install(SIGUSR1, count_handler, SA_ONSTACK, 0));
  on_altstack = 0;
  syscall(SYS_kill, syscall(SYS_getpid), SIGUSR1);
  printf("handler_on_altstack: %d\n", (int)on_altstack);

  CHECK_RET("kill_bad_signal", syscall(SYS_kill, syscall(SYS_getpid), 99));
  CHECK_RET("kill_signal_0", syscall(SYS_kill, syscall(SYS_getpid), 0));
  CHECK_RET("kill_missing_pid", syscall(SYS_kill, 999999, 0));
  CHECK_RET("tgkill_wrong_tgid", syscall(SYS_tgkill, 999999, syscall(SYS_gettid), 0));
  return check_end();
}
