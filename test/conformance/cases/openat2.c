/*
 * Conformance case: openat2(2) with struct open_how: plain opens, RESOLVE_BENEATH and
 * RESOLVE_IN_ROOT against escapes, RESOLVE_NO_SYMLINKS, and the argument checks (size,
 * unknown bits, a mode without O_CREAT). Uses the data directory argv[1].
 */
#include "../include/check.h"
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

static long o2(long dfd, const char *p, unsigned long long flags, unsigned long long mode,
               unsigned long long resolve) {
  struct open_how how;
  memset(&how, 0, sizeof how);
  how.flags = flags;
  how.mode = mode;
  how.resolve = resolve;
  return syscall(SYS_openat2, dfd, p, &how, sizeof how);
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  errno = 0;
  long dfd = syscall(SYS_openat, AT_FDCWD, argv[1], O_RDONLY | O_DIRECTORY);
  check_ret("open_data_dir", dfd, errno);
  CHECK_RET("openat2_plain", o2(dfd, "hello.txt", O_RDONLY, 0, 0));
  CHECK_RET("openat2_beneath_ok", o2(dfd, "dir/../hello.txt", O_RDONLY, 0, RESOLVE_BENEATH));
  CHECK_RET("openat2_beneath_dotdot", o2(dfd, "../x", O_RDONLY, 0, RESOLVE_BENEATH));
  CHECK_RET("openat2_beneath_absolute", o2(dfd, "/etc", O_RDONLY, 0, RESOLVE_BENEATH));
  CHECK_RET("openat2_in_root_absolute", o2(dfd, "/hello.txt", O_RDONLY, 0, RESOLVE_IN_ROOT));
  CHECK_RET("openat2_in_root_dotdot_clamped",
            o2(dfd, "../../hello.txt", O_RDONLY, 0, RESOLVE_IN_ROOT));
  CHECK_RET("openat2_no_symlinks", o2(dfd, "link", O_RDONLY, 0, RESOLVE_NO_SYMLINKS));
  CHECK_RET("openat2_follows_symlink", o2(dfd, "link", O_RDONLY, 0, 0));
  CHECK_RET("openat2_no_magiclinks_plain", o2(dfd, "hello.txt", O_RDONLY, 0, RESOLVE_NO_MAGICLINKS));
  CHECK_RET("openat2_unknown_resolve", o2(dfd, "hello.txt", O_RDONLY, 0, 1ULL << 40));
  CHECK_RET("openat2_mode_without_creat", o2(dfd, "hello.txt", O_RDONLY, 0644, 0));
  CHECK_RET("openat2_unknown_flags", o2(dfd, "hello.txt", O_RDONLY | (1ULL << 40), 0, 0));
  struct open_how how;
  memset(&how, 0, sizeof how);
  CHECK_RET("openat2_small_size", syscall(SYS_openat2, dfd, "hello.txt", &how, 8));
  CHECK_RET("openat2_bad_how_pointer", syscall(SYS_openat2, dfd, "hello.txt", BAD_PTR, sizeof how));
  return check_end();
}
