/*
 * Conformance case: the working directory: getcwd, chdir, fchdir, relative paths after a
 * change, and the errors (a file, a missing name, a buffer too small). Uses the data
 * directory argv[1], which the harness gives as an absolute path without symlinks.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  const char *d = argv[1];
  char cwd[4096], p[4096];
  memset(cwd, 0, sizeof cwd);
  CHECK_NONNEG("getcwd_initial", syscall(SYS_getcwd, cwd, sizeof cwd));
  check_true("getcwd_absolute", cwd[0] == '/', "the working directory is not absolute");
  CHECK_RET("chdir_data", syscall(SYS_chdir, d));
  memset(cwd, 0, sizeof cwd);
  errno = 0;
  long n = syscall(SYS_getcwd, cwd, sizeof cwd);
  check_true("getcwd_returns_length_with_nul", n == (long)strlen(d) + 1, "wrong length");
  check_true("getcwd_is_data_dir", strcmp(cwd, d) == 0, "getcwd is not the data directory");
  CHECK_RET("getcwd_too_small", syscall(SYS_getcwd, cwd, 2));
  CHECK_RET("getcwd_zero_size", syscall(SYS_getcwd, cwd, 0));
  CHECK_RET("getcwd_bad_buffer", syscall(SYS_getcwd, BAD_PTR, sizeof cwd));
  CHECK_RET("open_relative_after_chdir", syscall(SYS_openat, AT_FDCWD, "hello.txt", O_RDONLY));
  CHECK_RET("chdir_subdir", syscall(SYS_chdir, "dir/sub"));
  struct stat st;
  CHECK_RET("stat_dotdot_a", syscall(SYS_newfstatat, AT_FDCWD, "../a", &st, 0));
  CHECK_RET("chdir_dotdot", syscall(SYS_chdir, "../.."));
  memset(cwd, 0, sizeof cwd);
  syscall(SYS_getcwd, cwd, sizeof cwd);
  check_true("getcwd_after_dotdot", strcmp(cwd, d) == 0, "../.. did not come back");
  CHECK_RET("chdir_file", syscall(SYS_chdir, "hello.txt"));
  CHECK_RET("chdir_missing", syscall(SYS_chdir, "missing"));
  CHECK_RET("chdir_through_symlink_to_file", syscall(SYS_chdir, "link"));
  CHECK_RET("chdir_empty", syscall(SYS_chdir, ""));
  CHECK_RET("chdir_bad_pointer", syscall(SYS_chdir, BAD_PTR));
  errno = 0;
  long dfd = syscall(SYS_openat, AT_FDCWD, "dir", O_RDONLY | O_DIRECTORY);
  check_ret("open_dir", dfd, errno);
  CHECK_RET("chdir_root", syscall(SYS_chdir, "/"));
  CHECK_RET("fchdir_dir", syscall(SYS_fchdir, dfd));
  memset(cwd, 0, sizeof cwd);
  syscall(SYS_getcwd, cwd, sizeof cwd);
  snprintf(p, sizeof p, "%s/dir", d);
  check_true("getcwd_after_fchdir", strcmp(cwd, p) == 0, "fchdir went elsewhere");
  errno = 0;
  long ffd = syscall(SYS_openat, AT_FDCWD, "a", O_RDONLY);
  check_ret("open_after_fchdir", ffd, errno);
  CHECK_RET("fchdir_file", syscall(SYS_fchdir, ffd));
  CHECK_RET("fchdir_bad_fd", syscall(SYS_fchdir, 999));
  return check_end();
}
