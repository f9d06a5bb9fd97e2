/*
 * Conformance case: the legacy vsyscall page (0xffffffffff600000), which old static binaries
 * call directly: gettimeofday, time and getcpu through it answer like the system calls.
 */
#include "../include/check.h"
#include <sys/time.h>
#include <time.h>

int main(void) {
  check_begin();
  long (*vgettimeofday)(struct timeval *, void *) = (void *)0xffffffffff600000UL;
  long (*vtime)(long *) = (void *)0xffffffffff600400UL;
  long (*vgetcpu)(unsigned *, unsigned *, void *) = (void *)0xffffffffff600800UL;
  struct timeval tv = {0, 0};
  CHECK_RET("vsyscall_gettimeofday", vgettimeofday(&tv, NULL));
  long now = time(NULL);
  check_true("vsyscall_gettimeofday_value", tv.tv_sec > 0 && tv.tv_sec <= now + 1 && now - tv.tv_sec < 60, "wrong time");
  long t = 0;
  long r = vtime(&t);
  check_true("vsyscall_time", r == t && r > 0 && now - r < 60, "wrong time");
  unsigned cpu = 9999, node = 9999;
  CHECK_RET("vsyscall_getcpu", vgetcpu(&cpu, &node, NULL));
  check_true("vsyscall_getcpu_value", cpu < 1024 && node < 1024, "no cpu");
  return check_end();
}
