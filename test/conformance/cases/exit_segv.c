/*
 * Conformance case: a process killed by a fault. The program prints a line, then writes to
 * a read-only page with no handler installed: SIGSEGV kills it (even as pid 1 of a pid
 * namespace, since a fault is a forced signal). Natively the harness sees the signal; a
 * container runtime reports it as exit status 128 + 11, and the harness counts the two as
 * the same end.
 * expect-signal: SIGSEGV
 */
#include "../include/check.h"
#include <sys/mman.h>
#include <unistd.h>

int main(void) {
  check_begin();
  unsigned char *ro = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  check_true("mmap_read_only", ro != MAP_FAILED, "mmap failed");
  fflush(stdout);
  if (ro != MAP_FAILED) ro[0] = 1;
  printf("after_fault: FAIL the write did not fault\n");
  return 1;
}
