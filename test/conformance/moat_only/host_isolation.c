/*
 * Moat-only check (not differential): system calls the application makes must not reach
 * the host. argv[1] is a host directory made by the harness holding the file "keep". The
 * program asks for an unknown system call number and for add_key (not in the Sentry),
 * (each twice: the Sentry logs an unimplemented call once per sandbox, by name),
 * then tries to change argv[1] through calls that create, remove and rename: mkdir,
 * mknod (a FIFO), open(O_CREAT), symlink, unlink, rename, rmdir. It prints what each call
 * returned; the harness then checks the host directory is exactly as it made it.
 * With argv[2], a new path under /tmp, it also makes that directory and a file in it:
 * the sandbox's tmpfs takes them, the host's /tmp must not see them. Run
 * natively, the same program does change the directory: that is how the harness knows
 * the check can see a change.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char path_a[4096], path_b[4096];
static const char *in_dir(char *buf, const char *dir, const char *name) {
  snprintf(buf, 4096, "%s/%s", dir, name);
  return buf;
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  const char *d = argv[1];
  CHECK_RET("syscall_1000", syscall(1000, 0, 0, 0));
  CHECK_RET("add_key", syscall(SYS_add_key, "user", "moat-conformance", "x", 1, -2));
  /* Asked twice: the Sentry reports an unimplemented call once per sandbox. */
  CHECK_RET("syscall_1000_again", syscall(1000, 0, 0, 0));
  CHECK_RET("add_key_again", syscall(SYS_add_key, "user", "moat-conformance", "x", 1, -2));
  CHECK_RET("mkdir", syscall(SYS_mkdir, in_dir(path_a, d, "made_dir"), 0755));
  CHECK_RET("mknod_fifo", syscall(SYS_mknod, in_dir(path_a, d, "made_fifo"), S_IFIFO | 0600, 0));
  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, in_dir(path_a, d, "made_file"),
                    O_WRONLY | O_CREAT | O_EXCL, 0644);
  check_ret("open_creat", fd, errno);
  if (fd >= 0) CHECK_RET("write_created", syscall(SYS_write, fd, "x", 1));
  CHECK_RET("symlink", syscall(SYS_symlink, "keep", in_dir(path_a, d, "made_link")));
  CHECK_RET("rename_keep",
            syscall(SYS_rename, in_dir(path_a, d, "keep"), in_dir(path_b, d, "renamed")));
  CHECK_RET("unlink_keep", syscall(SYS_unlink, in_dir(path_a, d, "keep")));
  CHECK_RET("unlink_renamed", syscall(SYS_unlink, in_dir(path_a, d, "renamed")));
  CHECK_RET("rmdir_made_dir", syscall(SYS_rmdir, in_dir(path_a, d, "made_dir")));
  CHECK_RET("mkdir_again", syscall(SYS_mkdir, in_dir(path_a, d, "made_dir2"), 0755));
  if (argc > 2) {
    /* argv[2] is a new name under /tmp: the sandbox's own tmpfs must take it, the host's
     * /tmp must not see it. */
    CHECK_RET("mkdir_tmp", syscall(SYS_mkdir, argv[2], 0700));
    errno = 0;
    long tfd = syscall(SYS_openat, AT_FDCWD, in_dir(path_a, argv[2], "file"),
                       O_WRONLY | O_CREAT | O_EXCL, 0600);
    check_ret("create_in_tmp", tfd, errno);
  }
  return 0;
}
