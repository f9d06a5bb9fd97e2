/*
 * Conformance case: system call numbers that do not exist on x86-64 Linux return ENOSYS
 * (400, in the reserved hole between the uprobe calls and pidfd_send_signal — 335 and 336
 * are uretprobe/uprobe since Linux 6.11/6.16 —, numbers past the table, a negative one),
 * and the process carries on normally afterwards.
 */
#include "../include/check.h"
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  check_begin();
  CHECK_RET("syscall_400", syscall(400, 0, 0, 0));
  CHECK_RET("syscall_1000", syscall(1000, 1, 2, 3, 4, 5, 6));
  CHECK_RET("syscall_100000", syscall(100000));
  CHECK_RET("syscall_minus_1", syscall(-1L));
  /* x32 numbers carry bit 30; a 64-bit process gets ENOSYS for one with no x32 entry. */
  CHECK_RET("syscall_x32_bit_unknown", syscall(0x40000000L | 1000));
  CHECK_RET("getppid_still_works", syscall(SYS_getppid) >= 0 ? 0 : -1);
  return check_end();
}
