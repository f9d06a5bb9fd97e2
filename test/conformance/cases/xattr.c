/*
 * Conformance case: reading extended attributes of the data directory's files (argv[1]),
 * which the harness never sets: a missing user attribute is ENODATA, a missing file ENOENT,
 * a bad descriptor EBADF, a bad name EFAULT or ERANGE. Nothing is written: natively that
 * would change the host.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
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
  CHECK_RET("getxattr_missing_attr",
            syscall(SYS_getxattr, in_data(d, "hello.txt"), "user.moat.missing", buf, sizeof buf));
  CHECK_RET("lgetxattr_symlink_missing_attr",
            syscall(SYS_lgetxattr, in_data(d, "link"), "user.moat.missing", buf, sizeof buf));
  CHECK_RET("getxattr_missing_file",
            syscall(SYS_getxattr, in_data(d, "missing"), "user.moat.missing", buf, sizeof buf));
  CHECK_RET("getxattr_empty_name", syscall(SYS_getxattr, in_data(d, "hello.txt"), "", buf, sizeof buf));
  CHECK_RET("getxattr_bad_name_pointer",
            syscall(SYS_getxattr, in_data(d, "hello.txt"), BAD_PTR, buf, sizeof buf));
  CHECK_RET("getxattr_unknown_namespace",
            syscall(SYS_getxattr, in_data(d, "hello.txt"), "nonsense.x", buf, sizeof buf));
  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, in_data(d, "hello.txt"), O_RDONLY);
  check_ret("open_hello", fd, errno);
  CHECK_RET("fgetxattr_missing_attr", syscall(SYS_fgetxattr, fd, "user.moat.missing", buf, sizeof buf));
  CHECK_RET("fgetxattr_bad_fd", syscall(SYS_fgetxattr, 999, "user.moat.missing", buf, sizeof buf));
  CHECK_RET("flistxattr_bad_fd", syscall(SYS_flistxattr, 999, buf, sizeof buf));
  CHECK_NONNEG("listxattr_size_query", syscall(SYS_listxattr, in_data(d, "hello.txt"), NULL, 0));
  CHECK_RET("listxattr_missing_file", syscall(SYS_listxattr, in_data(d, "missing"), buf, sizeof buf));
  return check_end();
}
