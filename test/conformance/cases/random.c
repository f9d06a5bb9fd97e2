/*
 * Conformance case: getrandom(2) returns the length asked for, fills it, refuses unknown
 * flags and bad buffers.
 */
#include "../include/check.h"
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(void) {
  check_begin();
  unsigned char a[256], b[256];
  memset(a, 0, sizeof a);
  memset(b, 0, sizeof b);
  CHECK_RET("getrandom_64", syscall(SYS_getrandom, a, 64, 0));
  CHECK_RET("getrandom_256", syscall(SYS_getrandom, b, 256, 0));
  check_true("getrandom_differs", memcmp(a, b, 64) != 0, "two draws were equal");
  int nonzero = 0;
  for (int i = 0; i < 256; i++) nonzero += b[i] != 0;
  check_true("getrandom_fills", nonzero > 128, "most bytes are still zero");
  CHECK_RET("getrandom_zero_len", syscall(SYS_getrandom, a, 0, 0));
  CHECK_RET("getrandom_nonblock", syscall(SYS_getrandom, a, 16, GRND_NONBLOCK));
  CHECK_RET("getrandom_urandom_flag_combo", syscall(SYS_getrandom, a, 16, GRND_RANDOM));
  CHECK_RET("getrandom_bad_flags", syscall(SYS_getrandom, a, 16, 0x100));
  CHECK_RET("getrandom_bad_pointer", syscall(SYS_getrandom, BAD_PTR, 16, 0));
  return check_end();
}
