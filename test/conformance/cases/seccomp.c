/*
 * seccomp(2) and prctl(PR_SET_SECCOMP) as a program attaches its own filters: which programs
 * Linux refuses and why (EINVAL, EFAULT, EACCES, flags), what every action does to a call
 * (ERRNO with its data capped, TRAP's SIGSYS and siginfo, KILL_PROCESS, KILL_THREAD with and
 * without other threads, TRACE and USER_NOTIF without a tracer or listener, LOG, ALLOW, an
 * unknown action), the order of several filters, the instructions a filter may use (loads of
 * seccomp_data, arithmetic, scratch memory, jumps on X, RET A), inheritance across fork, clone
 * and execve, TSYNC, strict mode, and what /proc/self/status says.
 * Every filter is attached in a child of its own: a filter cannot be taken off.
 * variants: static dynamic
 */
#include "../include/check.h"

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>

static const char *self_exe;

#define DATA_NR offsetof(struct seccomp_data, nr)
#define DATA_ARCH offsetof(struct seccomp_data, arch)
#define DATA_ARG0 offsetof(struct seccomp_data, args[0])
#define DATA_IP offsetof(struct seccomp_data, instruction_pointer)

#define LOAD(off) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (off))
#define RET(v) BPF_STMT(BPF_RET | BPF_K, (v))
/* if (nr == n) return action; else go on. */
#define ON_NR(n, action) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (n), 0, 1), RET(action)

static long sys_seccomp(unsigned op, unsigned flags, void *args) {
  return syscall(SYS_seccomp, op, flags, args);
}

static long attach(struct sock_filter *f, unsigned short n, unsigned flags) {
  struct sock_fprog p = {.len = n, .filter = f};
  return sys_seccomp(SECCOMP_SET_MODE_FILTER, flags, &p);
}

#define ATTACH(flags, ...)                                                                     \
  ({                                                                                           \
    struct sock_filter f_[] = {__VA_ARGS__};                                                   \
    attach(f_, sizeof f_ / sizeof f_[0], (flags));                                             \
  })

/* Runs f in a child with no_new_privs and no core dumps; prints how the child ended. */
static void in_child(const char *name, void (*f)(void)) {
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    struct rlimit no_core = {0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    f();
    fflush(stdout);
    _exit(0);
  }
  int st = 0;
  waitpid(p, &st, 0);
  if (WIFSIGNALED(st))
    printf("%s_end: signal=%s\n", name, sigabbrev_np(WTERMSIG(st)));
  else
    printf("%s_end: exit=%d\n", name, WEXITSTATUS(st));
}

static void refused_programs(void) {
  struct sock_filter ok[] = {RET(SECCOMP_RET_ALLOW)};
  struct sock_fprog p = {.len = 0, .filter = ok};
  CHECK_RET("len_zero", sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &p));
  p.len = BPF_MAXINSNS + 1;
  CHECK_RET("len_too_long", sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &p));
  CHECK_RET("fprog_bad_ptr", sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, BAD_PTR));
  p.len = 1;
  p.filter = BAD_PTR;
  CHECK_RET("filter_bad_ptr", sys_seccomp(SECCOMP_SET_MODE_FILTER, 0, &p));
  CHECK_RET("bad_flags", ATTACH(1u << 30, RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("killable_without_listener",
            ATTACH(SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV, RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("bad_op", sys_seccomp(99, 0, NULL));
  CHECK_RET("strict_with_args", sys_seccomp(SECCOMP_SET_MODE_STRICT, 0, ok));
  CHECK_RET("no_ret_at_end", ATTACH(0, LOAD(DATA_NR)));
  CHECK_RET("bad_opcode", ATTACH(0, BPF_STMT(BPF_LD | BPF_W | BPF_IND, 0), RET(0)));
  CHECK_RET("mod_not_allowed", ATTACH(0, BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, 3), RET(0)));
  CHECK_RET("load_unaligned", ATTACH(0, LOAD(2), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("load_past_data", ATTACH(0, LOAD(64), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("jump_past_end",
            ATTACH(0, BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 5, 0), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("ja_past_end", ATTACH(0, BPF_STMT(BPF_JMP | BPF_JA, 1), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("div_by_zero_k", ATTACH(0, BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 0), RET(0)));
  CHECK_RET("shift_32", ATTACH(0, BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 32), RET(0)));
  CHECK_RET("mem_index", ATTACH(0, BPF_STMT(BPF_ST, 16), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("mem_read_unwritten", ATTACH(0, BPF_STMT(BPF_LD | BPF_MEM, 2), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("mem_written_one_path",
            ATTACH(0, LOAD(DATA_NR), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 1, 0, 1),
                   BPF_STMT(BPF_ST, 0), BPF_STMT(BPF_LD | BPF_MEM, 0), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("mode_still_none", prctl(PR_GET_SECCOMP));
}

static void without_nnp(void) {
  /* No no_new_privs, no CAP_SYS_ADMIN: refused. */
  if (setuid(65534) != 0) return;
  CHECK_RET("no_nnp_no_cap", ATTACH(0, RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("no_nnp_prctl", prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, NULL));
  CHECK_RET("no_nnp_strict_ok", prctl(PR_GET_SECCOMP));
}

static void action_errno(void) {
  CHECK_RET("errno_attach", ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_ERRNO | E2BIG),
                                    ON_NR(SYS_getpgrp, SECCOMP_RET_ERRNO | 5000),
                                    ON_NR(SYS_getsid, SECCOMP_RET_ERRNO | 0),
                                    RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("errno_getppid", syscall(SYS_getppid));
  long r = syscall(SYS_getpgrp);
  printf("errno_capped: raw=%d\n", r == -1 ? errno : 0);
  CHECK_RET("errno_zero_data", syscall(SYS_getsid, 0));
  CHECK_RET("errno_mode", prctl(PR_GET_SECCOMP));
  CHECK_RET("errno_other_calls_run", getuid() == getuid() ? 0 : -1);
  CHECK_RET("errno_strict_refused", prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT));
}

static volatile siginfo_t trapped;
static volatile int trap_count;

static void on_sigsys(int sig, siginfo_t *si, void *uc) {
  (void)sig;
  (void)uc;
  trapped = *si;
  trap_count++;
}

static void action_trap(void) {
  struct sigaction sa = {0};
  sa.sa_sigaction = on_sigsys;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSYS, &sa, NULL);
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_TRAP | 0x1234), RET(SECCOMP_RET_ALLOW));
  long r = syscall(SYS_getppid, 7, 8);
  printf("trap_ret: %ld (the call's number)\n", r);
  printf("trap_count: %d\n", trap_count);
  printf("trap_signo: %s\n", sigabbrev_np(trapped.si_signo));
  printf("trap_code: %d\n", trapped.si_code);
  printf("trap_errno: %#x\n", trapped.si_errno);
  printf("trap_syscall: %d\n", trapped.si_syscall);
  check_true("trap_arch", trapped.si_arch == AUDIT_ARCH_X86_64, "si_arch");
  check_true("trap_call_addr", trapped.si_call_addr != NULL, "si_call_addr");
  /* Blocked SIGSYS: the trap kills. */
  sigset_t s;
  sigemptyset(&s);
  sigaddset(&s, SIGSYS);
  sigprocmask(SIG_BLOCK, &s, NULL);
  fflush(stdout);
  syscall(SYS_getppid);
  printf("trap_blocked: not killed\n");
}

static void action_kill_process(void) {
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_KILL_PROCESS), RET(SECCOMP_RET_ALLOW));
  printf("kill_process: before\n");
  fflush(stdout);
  syscall(SYS_getppid);
  printf("kill_process: survived\n");
}

static void action_kill_thread_alone(void) {
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_KILL_THREAD), RET(SECCOMP_RET_ALLOW));
  fflush(stdout);
  syscall(SYS_getppid);
  printf("kill_thread_alone: survived\n");
}

static void *killed_thread(void *arg) {
  (void)arg;
  syscall(SYS_getppid);
  printf("kill_thread_other: thread survived\n");
  return NULL;
}

static void action_kill_thread(void) {
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_KILL_THREAD), RET(SECCOMP_RET_ALLOW));
  pthread_t th;
  fflush(stdout);
  pthread_create(&th, NULL, killed_thread, NULL);
  pthread_join(th, NULL);
  printf("kill_thread_other: process survived\n");
}

static void action_unknown(void) {
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, 0x00020000), RET(SECCOMP_RET_ALLOW));
  fflush(stdout);
  syscall(SYS_getppid);
  printf("unknown_action: survived\n");
}

static void actions_soft(void) {
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_TRACE | 3),
         ON_NR(SYS_getpgrp, SECCOMP_RET_USER_NOTIF), ON_NR(SYS_getuid, SECCOMP_RET_LOG),
         RET(SECCOMP_RET_ALLOW));
  CHECK_RET("trace_without_tracer", syscall(SYS_getppid));
  CHECK_RET("notif_without_listener", syscall(SYS_getpgrp));
  CHECK_RET("log_allowed", syscall(SYS_getuid) >= 0 ? 0 : -1);
}

static void precedence(void) {
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_ERRNO | EPERM),
         ON_NR(SYS_getpgrp, SECCOMP_RET_ERRNO | EPERM), ON_NR(SYS_getuid, SECCOMP_RET_ERRNO | EPERM),
         RET(SECCOMP_RET_ALLOW));
  CHECK_RET("second_attach",
            ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_ERRNO | EACCES),
                   ON_NR(SYS_getpgrp, SECCOMP_RET_ALLOW), ON_NR(SYS_getuid, SECCOMP_RET_LOG),
                   ON_NR(SYS_getgid, SECCOMP_RET_ERRNO | ENOENT), RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("tie_newest_wins", syscall(SYS_getppid));
  CHECK_RET("allow_does_not_override", syscall(SYS_getpgrp));
  CHECK_RET("log_does_not_override", syscall(SYS_getuid));
  CHECK_RET("newest_alone", syscall(SYS_getgid));
  printf("filters_status:");
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    if (strncmp(line, "Seccomp", 7) == 0 || strncmp(line, "NoNewPrivs", 10) == 0) {
      line[strcspn(line, "\n")] = 0;
      printf(" [%s]", line);
    }
  }
  if (f != NULL) fclose(f);
  printf("\n");
  CHECK_RET("mode_filter", prctl(PR_GET_SECCOMP));
}

static void instructions(void) {
  /* getppid (110): A = nr; arithmetic; the result in scratch memory and X; compare. */
  unsigned expect = ((((((110 + 5) * 3 - 45) / 7) | 0x100) ^ 0x3) << 2) >> 1;
  CHECK_RET("alu_attach",
            ATTACH(0, LOAD(DATA_NR),                                        /* 0 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 14), /* 1: else 16 */
                   BPF_STMT(BPF_ALU | BPF_ADD | BPF_K, 5),                  /* 2 */
                   BPF_STMT(BPF_ALU | BPF_MUL | BPF_K, 3),                  /* 3 */
                   BPF_STMT(BPF_ALU | BPF_SUB | BPF_K, 45),                 /* 4 */
                   BPF_STMT(BPF_ALU | BPF_DIV | BPF_K, 7),                  /* 5 */
                   BPF_STMT(BPF_ALU | BPF_OR | BPF_K, 0x100),               /* 6 */
                   BPF_STMT(BPF_ALU | BPF_XOR | BPF_K, 0x3),                /* 7 */
                   BPF_STMT(BPF_ALU | BPF_LSH | BPF_K, 2),                  /* 8 */
                   BPF_STMT(BPF_ALU | BPF_RSH | BPF_K, 1),                  /* 9 */
                   BPF_STMT(BPF_ST, 3),                                     /* 10 */
                   BPF_STMT(BPF_LDX | BPF_IMM, expect),                     /* 11 */
                   BPF_STMT(BPF_LD | BPF_MEM, 3),                           /* 12 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_X, 0, 0, 1),            /* 13 */
                   RET(SECCOMP_RET_ERRNO | ENOTTY),                         /* 14 */
                   RET(SECCOMP_RET_ERRNO | EIO),                            /* 15 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getpgrp, 0, 4),  /* 16: else 21 */
                   BPF_STMT(BPF_ALU | BPF_OR | BPF_K, SECCOMP_RET_ERRNO),   /* 17 */
                   BPF_STMT(BPF_MISC | BPF_TAX, 0),                         /* 18 */
                   BPF_STMT(BPF_MISC | BPF_TXA, 0),                         /* 19 */
                   BPF_STMT(BPF_RET | BPF_A, 0),                            /* 20 */
                   RET(SECCOMP_RET_ALLOW)));                                /* 21 */
  CHECK_RET("alu_result", syscall(SYS_getppid));
  CHECK_RET("ret_a", syscall(SYS_getpgrp));

  /* Arguments, the architecture, the instruction pointer, the data's length, X jumps, NEG. */
  CHECK_RET("args_attach",
            ATTACH(0, LOAD(DATA_ARCH),                                          /* 0 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0), /* 1 */
                   RET(SECCOMP_RET_KILL_PROCESS),                               /* 2 */
                   LOAD(DATA_NR),                                               /* 3 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_dup, 0, 3),          /* 4: else 8 */
                   LOAD(DATA_ARG0),                                             /* 5 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 12345, 0, 1),            /* 6: else 8 */
                   RET(SECCOMP_RET_ERRNO | EL3HLT),                             /* 7 */
                   LOAD(DATA_NR),                                               /* 8 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getuid, 0, 4),       /* 9: else 14 */
                   LOAD(DATA_IP),                                               /* 10 */
                   BPF_STMT(BPF_LDX | BPF_W | BPF_LEN, 0),                      /* 11 */
                   BPF_JUMP(BPF_JMP | BPF_JGT | BPF_X, 0, 0, 1),                /* 12 */
                   RET(SECCOMP_RET_ERRNO | ENODATA),                            /* 13 */
                   LOAD(DATA_NR),                                               /* 14 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getgid, 0, 4),       /* 15: else 20 */
                   BPF_STMT(BPF_ALU | BPF_NEG, 0),                              /* 16 */
                   BPF_STMT(BPF_LDX | BPF_IMM, 0x80000000u),                    /* 17 */
                   BPF_JUMP(BPF_JMP | BPF_JSET | BPF_X, 0, 0, 1),               /* 18 */
                   RET(SECCOMP_RET_ERRNO | EXDEV),                              /* 19 */
                   LOAD(DATA_NR),                                               /* 20 */
                   BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getegid, 0, 3),      /* 21: else 25 */
                   BPF_STMT(BPF_LD | BPF_W | BPF_LEN, 0),                       /* 22 */
                   BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 64, 0, 1),               /* 23 */
                   RET(SECCOMP_RET_ERRNO | EDOM),                               /* 24 */
                   RET(SECCOMP_RET_ALLOW)));                                    /* 25 */
  CHECK_RET("arg_matches", syscall(SYS_dup, 12345));
  CHECK_RET("arg_differs", syscall(SYS_dup, 12346));
  CHECK_RET("ip_above_len", syscall(SYS_getuid) >= 0 ? -2 : -1);
  CHECK_RET("neg_sets_sign", syscall(SYS_getgid) >= 0 ? -2 : -1);
  CHECK_RET("len_is_64", syscall(SYS_getegid) >= 0 ? -2 : -1);
}

static void div_by_x_zero(void) {
  /* A division by a zero X ends the program with 0: KILL_THREAD. */
  ATTACH(0, LOAD(DATA_NR), BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_getppid, 0, 2),
         BPF_STMT(BPF_LDX | BPF_IMM, 0), BPF_STMT(BPF_ALU | BPF_DIV | BPF_X, 0),
         RET(SECCOMP_RET_ALLOW));
  fflush(stdout);
  syscall(SYS_getppid);
  printf("div_by_x_zero: survived\n");
}

static void inheritance(void) {
  ATTACH(0, LOAD(DATA_NR), ON_NR(SYS_getppid, SECCOMP_RET_ERRNO | ENOLINK), RET(SECCOMP_RET_ALLOW));
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    CHECK_RET("fork_child_filtered", syscall(SYS_getppid));
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
  fflush(stdout);
  p = fork();
  if (p == 0) {
    execl(self_exe, self_exe, "-", "exec-child", (char *)NULL);
    _exit(99);
  }
  int st = 0;
  waitpid(p, &st, 0);
  printf("exec_child_status: %d\n", WEXITSTATUS(st));
}

static int tsync_go;

static void *tsync_thread(void *arg) {
  (void)arg;
  while (!__atomic_load_n(&tsync_go, __ATOMIC_ACQUIRE)) usleep(1000);
  CHECK_RET("tsync_other_thread", syscall(SYS_getppid));
  return NULL;
}

static void tsync(void) {
  pthread_t th;
  pthread_create(&th, NULL, tsync_thread, NULL);
  CHECK_RET("tsync_attach", ATTACH(SECCOMP_FILTER_FLAG_TSYNC, LOAD(DATA_NR),
                                   ON_NR(SYS_getppid, SECCOMP_RET_ERRNO | ECHRNG),
                                   RET(SECCOMP_RET_ALLOW)));
  __atomic_store_n(&tsync_go, 1, __ATOMIC_RELEASE);
  pthread_join(th, NULL);
}

static volatile long diverged_tid;
static int diverged_go;

static void *diverging_thread(void *arg) {
  (void)arg;
  ATTACH(0, RET(SECCOMP_RET_ALLOW));
  diverged_tid = syscall(SYS_gettid);
  while (!__atomic_load_n(&diverged_go, __ATOMIC_ACQUIRE)) usleep(1000);
  return NULL;
}

static void tsync_refused(void) {
  pthread_t th;
  pthread_create(&th, NULL, diverging_thread, NULL);
  while (diverged_tid == 0) usleep(1000);
  long r = ATTACH(SECCOMP_FILTER_FLAG_TSYNC, RET(SECCOMP_RET_ALLOW));
  check_true("tsync_names_the_thread", r == diverged_tid, "returns the tid that cannot sync");
  CHECK_RET("tsync_esrch",
            ATTACH(SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_TSYNC_ESRCH, RET(SECCOMP_RET_ALLOW)));
  CHECK_RET("without_tsync_fine", ATTACH(0, RET(SECCOMP_RET_ALLOW)));
  __atomic_store_n(&diverged_go, 1, __ATOMIC_RELEASE);
  pthread_join(th, NULL);
}

static void strict(void) {
  fflush(stdout);
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) {
    printf("strict: refused\n");
    return;
  }
  static const char msg[] = "strict: write allowed\n";
  write(1, msg, sizeof msg - 1);
  syscall(SYS_getppid);
  write(1, "strict: survived\n", 17);
}

static void strict_then_exit(void) {
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) != 0) return;
  syscall(SYS_exit, 4);
}

static void action_avail(void) {
  unsigned a[] = {SECCOMP_RET_KILL_PROCESS, SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP,
                  SECCOMP_RET_ERRNO, SECCOMP_RET_TRACE, SECCOMP_RET_LOG, SECCOMP_RET_ALLOW,
                  0x12340000};
  const char *names[] = {"kill_process", "kill_thread", "trap", "errno", "trace", "log", "allow",
                         "unknown"};
  char name[64];
  for (unsigned i = 0; i < sizeof a / sizeof a[0]; i++) {
    snprintf(name, sizeof name, "avail_%s", names[i]);
    CHECK_RET(name, sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, &a[i]));
  }
  CHECK_RET("avail_flags", sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 1, &a[0]));
  CHECK_RET("avail_bad_ptr", sys_seccomp(SECCOMP_GET_ACTION_AVAIL, 0, BAD_PTR));
}

int main(int argc, char **argv) {
  check_begin();
  self_exe = argv[0];
  if (argc > 2 && strcmp(argv[2], "exec-child") == 0) {
    CHECK_RET("exec_child_filtered", syscall(SYS_getppid));
    return 0;
  }
  self_exe = realpath("/proc/self/exe", NULL);
  CHECK_RET("mode_initial", prctl(PR_GET_SECCOMP));
  in_child("refused", refused_programs);
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    without_nnp();
    fflush(stdout);
    _exit(0);
  }
  waitpid(p, NULL, 0);
  in_child("errno", action_errno);
  in_child("trap", action_trap);
  in_child("kill_process", action_kill_process);
  in_child("kill_thread_alone", action_kill_thread_alone);
  in_child("kill_thread_other", action_kill_thread);
  in_child("unknown_action", action_unknown);
  in_child("soft", actions_soft);
  in_child("precedence", precedence);
  in_child("instructions", instructions);
  in_child("div_by_x_zero", div_by_x_zero);
  in_child("inheritance", inheritance);
  in_child("tsync", tsync);
  in_child("tsync_refused", tsync_refused);
  in_child("strict", strict);
  in_child("strict_exit", strict_then_exit);
  action_avail();
  return check_end();
}
