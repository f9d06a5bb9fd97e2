/*
 * Conformance case: the process's identity: getuid, geteuid, getgid, getegid, getresuid,
 * getresgid (the values are printed: the harness runs natively and in moat as the same
 * user), and getpid/getppid/gettid/getpgrp/getpgid/getsid properties that hold in any pid
 * namespace. getpgrp and getsid may be 0 natively: a group or session whose leader lives in
 * an ancestor pid namespace (a CI container, say) has no number in ours.
 */
#include "../include/check.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  check_begin();
  CHECK_RET("getuid", syscall(SYS_getuid));
  CHECK_RET("geteuid", syscall(SYS_geteuid));
  CHECK_RET("getgid", syscall(SYS_getgid));
  CHECK_RET("getegid", syscall(SYS_getegid));
  unsigned r = 9, e = 9, s = 9;
  CHECK_RET("getresuid", syscall(SYS_getresuid, &r, &e, &s));
  printf("getresuid_values: %u %u %u\n", r, e, s);
  r = e = s = 9;
  CHECK_RET("getresgid", syscall(SYS_getresgid, &r, &e, &s));
  printf("getresgid_values: %u %u %u\n", r, e, s);
  CHECK_RET("getresuid_bad_pointer", syscall(SYS_getresuid, BAD_PTR, &e, &s));
  long pid = syscall(SYS_getpid);
  check_true("getpid_positive", pid > 0, "getpid <= 0");
  check_true("gettid_is_pid", syscall(SYS_gettid) == pid, "gettid != getpid in one thread");
  check_true("getppid_nonnegative", syscall(SYS_getppid) >= 0, "getppid < 0");
  check_true("getpid_stable", syscall(SYS_getpid) == pid, "getpid changed");
  check_true("glibc_getpid_agrees", getpid() == pid, "glibc getpid differs");
  long pgrp = syscall(SYS_getpgrp);
  check_true("getpgrp_nonnegative", pgrp >= 0, "getpgrp < 0");
  check_true("getpgid_self_is_getpgrp", syscall(SYS_getpgid, 0) == pgrp, "getpgid(0) != getpgrp()");
  check_true("getpgid_own_pid_is_getpgrp", syscall(SYS_getpgid, pid) == pgrp,
             "getpgid(getpid()) != getpgrp()");
  check_true("getsid_nonnegative", syscall(SYS_getsid, 0) >= 0, "getsid(0) < 0");
  CHECK_RET("getpgid_missing_pid", syscall(SYS_getpgid, 999999));
  CHECK_RET("getsid_missing_pid", syscall(SYS_getsid, 999999));
  CHECK_RET("getpgid_negative", syscall(SYS_getpgid, -1));
  return check_end();
}
