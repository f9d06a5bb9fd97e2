/*
 * Conformance case: getpriority, setpriority and nice. Values are printed relative to the
 * nice value the case starts with. A child that becomes uid 1000 may raise its nice value but
 * not lower it (EACCES without CAP_SYS_NICE, RLIMIT_NICE 0) nor touch root's processes (EPERM).
 * PRIO_USER is not set here: natively it would reach every process of that user on the host.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <sys/resource.h>
#include <sys/syscall.h>

static int start;

static void unprivileged(void) {
  if (setresgid(1000, 1000, 1000) != 0 || setresuid(1000, 1000, 1000) != 0) {
    printf("drop: FAIL could not become 1000\n");
    _exit(1);
  }
  struct rlimit r = {0, 0};
  setrlimit(RLIMIT_NICE, &r);
  int now = getpriority(PRIO_PROCESS, 0);
  CHECK_RET("user_raise_nice", setpriority(PRIO_PROCESS, 0, now + 1));
  check_true("user_raised", getpriority(PRIO_PROCESS, 0) == now + 1, "nice not raised");
  CHECK_RET("user_lower_nice_eacces", setpriority(PRIO_PROCESS, 0, now - 1));
  CHECK_RET("user_other_uid_eperm", setpriority(PRIO_PROCESS, getppid(), 19));
  _exit(check_end());
}

int main(void) {
  check_begin();
  /* A process group of its own: PRIO_PGRP below must reach no process but this one. */
  setpgid(0, 0);
  errno = 0;
  start = getpriority(PRIO_PROCESS, 0);
  check_true("get_self", errno == 0 && start >= -20 && start <= 19, "getpriority failed");
  if (start > 10) {
    printf("start: FAIL the case needs a nice value of 10 or less\n");
    return 1;
  }
  CHECK_RET("set_plus3", setpriority(PRIO_PROCESS, 0, start + 3));
  check_true("get_plus3", getpriority(PRIO_PROCESS, 0) == start + 3, "not start+3");
  CHECK_RET("set_back", setpriority(PRIO_PROCESS, 0, start));
  CHECK_RET("set_clamped_high", setpriority(PRIO_PROCESS, 0, 100));
  check_true("clamped_to_19", getpriority(PRIO_PROCESS, 0) == 19, "not clamped to 19");
  CHECK_RET("set_clamped_low", setpriority(PRIO_PROCESS, 0, -100));
  check_true("clamped_to_minus20", getpriority(PRIO_PROCESS, 0) == -20, "not clamped to -20");
  setpriority(PRIO_PROCESS, 0, start);
  CHECK_RET("nice_plus2", nice(2) - start);
  setpriority(PRIO_PROCESS, 0, start);
  CHECK_RET("pgrp_self", setpriority(PRIO_PGRP, 0, start + 1));
  check_true("pgrp_applied", getpriority(PRIO_PGRP, 0) == start + 1, "pgrp not applied");
  setpriority(PRIO_PGRP, 0, start);
  CHECK_RET("raw_syscall_is_20_minus_nice", syscall(SYS_getpriority, PRIO_PROCESS, 0) - (20 - start));
  CHECK_RET("bad_which", setpriority(7, 0, 0));
  CHECK_RET("get_bad_which", getpriority(7, 0));
  CHECK_RET("no_such_pid", setpriority(PRIO_PROCESS, 0x3fffffff, 0));
  CHECK_RET("get_no_such_pid", getpriority(PRIO_PROCESS, 0x3fffffff));
  CHECK_RET("no_such_pgrp", setpriority(PRIO_PGRP, 0x3fffffff, 0));

  pid_t c = fork();
  if (c == 0) {
    CHECK_RET("child_inherits", getpriority(PRIO_PROCESS, 0) - start);
    _exit(0);
  }
  waitpid(c, NULL, 0);
  check_in_child(unprivileged);
  return check_end();
}
