/*
 * Conformance case: readlink(at) on the data directory's symlinks (argv[1]): link ->
 * hello.txt, dangling -> missing; truncation, and the errors for non-links.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

static char path_buf[4096];
static const char *in_data(const char *dir, const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
  return path_buf;
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  const char *d = argv[1];
  char buf[256];

  memset(buf, 0, sizeof buf);
  CHECK_RET("readlink_link", syscall(SYS_readlink, in_data(d, "link"), buf, sizeof buf));
  printf("readlink_link_target: %s\n", buf);
  memset(buf, 0, sizeof buf);
  CHECK_RET("readlink_dangling",
            syscall(SYS_readlink, in_data(d, "dangling"), buf, sizeof buf));
  printf("readlink_dangling_target: %s\n", buf);
  memset(buf, 0, sizeof buf);
  CHECK_RET("readlink_truncated", syscall(SYS_readlink, in_data(d, "link"), buf, 3));
  printf("readlink_truncated_target: %s\n", buf);
  check_true("readlink_no_nul", buf[3] == 0, "readlink wrote past the length");
  CHECK_RET("readlink_zero_size", syscall(SYS_readlink, in_data(d, "link"), buf, 0));
  CHECK_RET("readlink_regular_file",
            syscall(SYS_readlink, in_data(d, "hello.txt"), buf, sizeof buf));
  CHECK_RET("readlink_directory", syscall(SYS_readlink, in_data(d, "dir"), buf, sizeof buf));
  CHECK_RET("readlink_missing", syscall(SYS_readlink, in_data(d, "missing"), buf, sizeof buf));
  CHECK_RET("readlink_empty_path", syscall(SYS_readlink, "", buf, sizeof buf));
  CHECK_RET("readlink_bad_buffer",
            syscall(SYS_readlink, in_data(d, "link"), BAD_PTR, sizeof buf));

  errno = 0;
  long dfd = syscall(SYS_openat, AT_FDCWD, d, O_RDONLY | O_DIRECTORY);
  check_ret("open_data_dir", dfd, errno);
  memset(buf, 0, sizeof buf);
  CHECK_RET("readlinkat_relative", syscall(SYS_readlinkat, dfd, "link", buf, sizeof buf));
  printf("readlinkat_relative_target: %s\n", buf);
  CHECK_RET("readlinkat_bad_dirfd", syscall(SYS_readlinkat, 999, "link", buf, sizeof buf));
  return check_end();
}
