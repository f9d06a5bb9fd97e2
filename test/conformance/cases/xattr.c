/*
 * Conformance case: reading extended attributes of the data directory's files (argv[1]),
 * which the harness never sets: a missing user attribute is ENODATA, a missing file ENOENT,
 * a bad descriptor EBADF, a bad name EFAULT or ERANGE. Nothing is written there: natively that
 * would change the host. Then user attributes are set, read, listed and removed on files of
 * a fresh directory under /tmp (the host's natively, the sandbox's tmpfs under `moat do`),
 * with Linux's errnos for flags, sizes, pointers, symlinks and O_PATH descriptors. Lists are
 * checked by length (the order of names differs between file systems).
 */
#include "../include/check.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

static char path_buf[4096];
static const char *in_data(const char *dir, const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
  return path_buf;
}

static char tmp_buf[4096];
static const char *in_tmp(const char *dir, const char *name) {
  snprintf(tmp_buf, sizeof tmp_buf, "%s/%s", dir, name);
  return tmp_buf;
}

/* Sets, gets, lists and removes user attributes under a fresh directory of /tmp. */
static void write_checks(void) {
  char base[] = "/tmp/moat-xattr-XXXXXX";
  check_true("mkdtemp", mkdtemp(base) != NULL, check_errno_name(errno));
  char f[4096], l[4096], sub[4096];
  snprintf(f, sizeof f, "%s", in_tmp(base, "f"));
  snprintf(l, sizeof l, "%s", in_tmp(base, "l"));
  snprintf(sub, sizeof sub, "%s", in_tmp(base, "sub"));
  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, f, O_CREAT | O_RDWR, 0644);
  check_ret("create_f", fd < 0 ? fd : 0, errno);
  CHECK_RET("symlink_l", syscall(SYS_symlinkat, "f", AT_FDCWD, l));
  CHECK_RET("mkdir_sub", syscall(SYS_mkdirat, AT_FDCWD, sub, 0755));
  char buf[256];
  char big[65537];
  memset(big, 'v', sizeof big);

  CHECK_RET("set_bad_flags", syscall(SYS_setxattr, f, "user.a", "1", 1, 4));
  CHECK_RET("set_bad_name_ptr", syscall(SYS_setxattr, f, BAD_PTR, "1", 1, 0));
  CHECK_RET("set_empty_name", syscall(SYS_setxattr, f, "", "1", 1, 0));
  CHECK_RET("set_bad_value_ptr", syscall(SYS_setxattr, f, "user.a", BAD_PTR, 1, 0));
  CHECK_RET("set_too_big", syscall(SYS_setxattr, f, "user.a", big, 65537, 0));
  CHECK_RET("set_missing_file_bad_flags", syscall(SYS_setxattr, in_tmp(base, "nope"), "user.a", "1", 1, 8));
  CHECK_RET("set_missing_file", syscall(SYS_setxattr, in_tmp(base, "nope"), "user.a", "1", 1, 0));
  CHECK_RET("set_prefix_only", syscall(SYS_setxattr, f, "user.", "1", 1, 0));
  CHECK_RET("set_unknown_namespace", syscall(SYS_setxattr, f, "nonsense.a", "1", 1, 0));
  CHECK_RET("set_replace_missing", syscall(SYS_setxattr, f, "user.a", "1", 1, XATTR_REPLACE));
  CHECK_RET("set_create", syscall(SYS_setxattr, f, "user.a", "one", 3, XATTR_CREATE));
  CHECK_RET("set_create_again", syscall(SYS_setxattr, f, "user.a", "two", 3, XATTR_CREATE));
  CHECK_RET("get_size_query", syscall(SYS_getxattr, f, "user.a", NULL, 0));
  CHECK_RET("get_small_buffer", syscall(SYS_getxattr, f, "user.a", buf, 2));
  CHECK_RET("get_bad_buffer", syscall(SYS_getxattr, f, "user.a", BAD_PTR, sizeof buf));
  memset(buf, 0, sizeof buf);
  CHECK_RET("get", syscall(SYS_getxattr, f, "user.a", buf, sizeof buf));
  check_true("get_value", memcmp(buf, "one", 3) == 0, buf);
  CHECK_RET("set_replace", syscall(SYS_setxattr, f, "user.a", "three", 5, XATTR_REPLACE));
  memset(buf, 0, sizeof buf);
  CHECK_RET("fget_after_replace", syscall(SYS_fgetxattr, fd, "user.a", buf, sizeof buf));
  check_true("fget_value", memcmp(buf, "three", 5) == 0, buf);
  CHECK_RET("set_empty_value", syscall(SYS_setxattr, f, "user.empty", "", 0, 0));
  CHECK_RET("get_empty_value", syscall(SYS_getxattr, f, "user.empty", buf, sizeof buf));
  CHECK_RET("fset", syscall(SYS_fsetxattr, fd, "user.b", "bee", 3, 0));
  CHECK_RET("list_size_query", syscall(SYS_listxattr, f, NULL, 0));
  CHECK_RET("list_small_buffer", syscall(SYS_listxattr, f, buf, 5));
  CHECK_RET("list_bad_buffer", syscall(SYS_listxattr, f, BAD_PTR, sizeof buf));
  CHECK_RET("flist", syscall(SYS_flistxattr, fd, buf, sizeof buf));
  CHECK_RET("llist_symlink", syscall(SYS_llistxattr, l, buf, sizeof buf));
  CHECK_RET("list_through_symlink", syscall(SYS_listxattr, l, buf, sizeof buf));
  CHECK_RET("get_through_symlink", syscall(SYS_getxattr, l, "user.b", buf, sizeof buf));
  CHECK_RET("lget_symlink", syscall(SYS_lgetxattr, l, "user.b", buf, sizeof buf));
  CHECK_RET("lset_symlink", syscall(SYS_lsetxattr, l, "user.b", "x", 1, 0));
  CHECK_RET("lremove_symlink", syscall(SYS_lremovexattr, l, "user.b"));
  CHECK_RET("set_dir", syscall(SYS_setxattr, sub, "user.d", "dee", 3, 0));
  CHECK_RET("get_dir", syscall(SYS_getxattr, sub, "user.d", buf, sizeof buf));
  CHECK_RET("list_dir", syscall(SYS_listxattr, sub, buf, sizeof buf));
  CHECK_RET("remove_dir", syscall(SYS_removexattr, sub, "user.d"));
  errno = 0;
  long opath = syscall(SYS_openat, AT_FDCWD, f, O_PATH);
  check_ret("open_opath", opath < 0 ? opath : 0, errno);
  CHECK_RET("fget_opath", syscall(SYS_fgetxattr, opath, "user.a", buf, sizeof buf));
  CHECK_RET("fset_opath", syscall(SYS_fsetxattr, opath, "user.a", "1", 1, 0));
  CHECK_RET("flist_opath", syscall(SYS_flistxattr, opath, buf, sizeof buf));
  CHECK_RET("fremove_opath", syscall(SYS_fremovexattr, opath, "user.a"));
  CHECK_RET("remove_bad_name_ptr", syscall(SYS_removexattr, f, BAD_PTR));
  CHECK_RET("remove_prefix_only", syscall(SYS_removexattr, f, "user."));
  CHECK_RET("remove", syscall(SYS_removexattr, f, "user.a"));
  CHECK_RET("remove_again", syscall(SYS_removexattr, f, "user.a"));
  CHECK_RET("get_removed", syscall(SYS_getxattr, f, "user.a", buf, sizeof buf));
  CHECK_RET("fremove", syscall(SYS_fremovexattr, fd, "user.b"));
  CHECK_RET("remove_empty", syscall(SYS_removexattr, f, "user.empty"));
  CHECK_RET("list_after_removes", syscall(SYS_listxattr, f, buf, sizeof buf));
  CHECK_RET("set_large", syscall(SYS_setxattr, f, "user.large", big, 2000, 0));
  CHECK_RET("get_large", syscall(SYS_getxattr, f, "user.large", big + 4000, 4000));
  check_true("get_large_value", memcmp(big, big + 4000, 2000) == 0, "differs");
  syscall(SYS_close, opath);
  syscall(SYS_close, fd);
  syscall(SYS_unlinkat, AT_FDCWD, l, 0);
  syscall(SYS_unlinkat, AT_FDCWD, f, 0);
  syscall(SYS_unlinkat, AT_FDCWD, sub, AT_REMOVEDIR);
  CHECK_RET("rmdir_base", syscall(SYS_unlinkat, AT_FDCWD, base, AT_REMOVEDIR));
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
  write_checks();
  return check_end();
}
