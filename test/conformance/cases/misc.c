/*
 * Conformance case: small process-wide state: umask round trip, prctl PR_SET_NAME and
 * PR_GET_NAME, getrlimit/setrlimit/prlimit64 round trip on RLIMIT_NOFILE (lowered, never
 * raised), sched_yield, sched_getaffinity, getcpu, arch_prctl ARCH_GET_FS agreeing with
 * the thread pointer.
 */
#include "../include/check.h"
#include <sched.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef ARCH_GET_FS
#define ARCH_GET_FS 0x1003
#endif

int main(void) {
  check_begin();
  CHECK_RET("umask_set_027", syscall(SYS_umask, 027)); /* prints the inherited mask */
  CHECK_RET("umask_read_back", syscall(SYS_umask, 022));
  CHECK_RET("umask_high_bits_ignored", syscall(SYS_umask, 0777777));
  CHECK_RET("umask_after_high_bits", syscall(SYS_umask, 022));

  char name[32];
  CHECK_RET("prctl_set_name", prctl(PR_SET_NAME, "moat-conf-name-long", 0, 0, 0));
  memset(name, 0, sizeof name);
  CHECK_RET("prctl_get_name", prctl(PR_GET_NAME, name, 0, 0, 0));
  printf("prctl_name: %s\n", name);
  CHECK_RET("prctl_bad_option", prctl(9999, 0, 0, 0, 0));

  struct rlimit rl, rl2;
  CHECK_RET("getrlimit_nofile", syscall(SYS_getrlimit, RLIMIT_NOFILE, &rl));
  check_true("rlimit_nofile_soft_le_hard", rl.rlim_cur <= rl.rlim_max, "soft > hard");
  rl2 = rl;
  rl2.rlim_cur = 64;
  CHECK_RET("setrlimit_nofile_lower", syscall(SYS_setrlimit, RLIMIT_NOFILE, &rl2));
  memset(&rl2, 0, sizeof rl2);
  CHECK_RET("prlimit_read_back", syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, &rl2));
  check_true("prlimit_soft_is_64", rl2.rlim_cur == 64, "the soft limit is not 64");
  check_true("prlimit_hard_unchanged", rl2.rlim_max == rl.rlim_max, "the hard limit changed");
  CHECK_RET("dup2_above_soft_limit", syscall(SYS_dup2, 1, 100));
  rl2.rlim_cur = rl2.rlim_max + 1;
  CHECK_RET("setrlimit_soft_above_hard", syscall(SYS_setrlimit, RLIMIT_NOFILE, &rl2));
  CHECK_RET("getrlimit_bad_resource", syscall(SYS_getrlimit, 999, &rl2));
  CHECK_RET("getrlimit_bad_pointer", syscall(SYS_getrlimit, RLIMIT_NOFILE, BAD_PTR));

  CHECK_RET("sched_yield", syscall(SYS_sched_yield));
  cpu_set_t set;
  CPU_ZERO(&set);
  errno = 0;
  long n = syscall(SYS_sched_getaffinity, 0, sizeof set, &set);
  check_true("sched_getaffinity", n > 0 && n % 8 == 0 && CPU_COUNT(&set) >= 1,
             "no CPU in the affinity mask");
  CHECK_RET("sched_getaffinity_small_size", syscall(SYS_sched_getaffinity, 0, 1, &set));
  unsigned cpu = 9999, node = 9999;
  CHECK_RET("getcpu", syscall(SYS_getcpu, &cpu, &node, NULL));
  check_true("getcpu_in_affinity", cpu < CPU_SETSIZE, "cpu out of range");

  unsigned long fs = 0;
  CHECK_RET("arch_prctl_get_fs", syscall(SYS_arch_prctl, ARCH_GET_FS, &fs));
  uintptr_t tp;
  __asm__("mov %%fs:0, %0" : "=r"(tp));
  check_true("arch_prctl_fs_is_thread_pointer", fs == tp, "FS base != %fs:0");
  CHECK_RET("arch_prctl_bad_code", syscall(SYS_arch_prctl, 0x9999, &fs));
  return check_end();
}
