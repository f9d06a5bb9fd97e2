/*
 * Conformance case: changing files in a fresh directory the program makes under /tmp
 * (mkdtemp) and removes again: creat/openat O_CREAT|O_EXCL|O_TRUNC|O_APPEND, write,
 * pwrite64, ftruncate/truncate, fchmod, mkdirat, renameat, linkat, symlinkat, unlinkat,
 * rmdir, utimensat. Natively this is the host's /tmp; under `moat do` a tmpfs of the
 * sandbox; in the conformance bundle a tmpfs mount. Nothing else is written.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static void stat_line(const char *name, int dfd, const char *p, int flags) {
  struct stat st;
  memset(&st, 0, sizeof st);
  errno = 0;
  long r = syscall(SYS_newfstatat, dfd, p, &st, flags);
  if (r < 0) {
    check_ret(name, r, errno);
    return;
  }
  printf("%s: ret=0 mode=%06o size=%lld nlink=%lu\n", name, (unsigned)st.st_mode,
         S_ISDIR(st.st_mode) ? -1LL : (long long)st.st_size,
         S_ISDIR(st.st_mode) ? 0UL : (unsigned long)st.st_nlink);
}

int main(void) {
  check_begin();
  syscall(SYS_umask, 022);
  char base[] = "/tmp/moat-conf-XXXXXX";
  errno = 0;
  char *made = mkdtemp(base);
  int made_errno = errno;
  check_true("mkdtemp", made != NULL, check_errno_name(made_errno));
  errno = 0;
  long dfd = syscall(SYS_openat, AT_FDCWD, base, O_RDONLY | O_DIRECTORY);
  check_ret("open_base", dfd, errno);
  stat_line("stat_base", AT_FDCWD, base, 0);

  errno = 0;
  long fd = syscall(SYS_openat, dfd, "f", O_RDWR | O_CREAT | O_EXCL, 0666);
  check_ret("create_f", fd, errno);
  stat_line("stat_new_f", (int)dfd, "f", 0);
  CHECK_RET("create_f_excl_again", syscall(SYS_openat, dfd, "f", O_RDWR | O_CREAT | O_EXCL, 0666));
  CHECK_RET("write_hello", syscall(SYS_write, fd, "hello", 5));
  CHECK_RET("pwrite_at_10", syscall(SYS_pwrite64, fd, "X", 1, 10L));
  CHECK_RET("offset_after_pwrite", syscall(SYS_lseek, fd, 0L, SEEK_CUR));
  stat_line("stat_after_writes", (int)dfd, "f", 0);
  char buf[64];
  memset(buf, 'z', sizeof buf);
  CHECK_RET("pread_all", syscall(SYS_pread64, fd, buf, sizeof buf, 0L));
  check_true("hole_reads_zero", memcmp(buf, "hello\0\0\0\0\0X", 11) == 0, "wrong bytes");
  CHECK_RET("ftruncate_3", syscall(SYS_ftruncate, fd, 3L));
  stat_line("stat_after_ftruncate", (int)dfd, "f", 0);
  CHECK_RET("ftruncate_negative", syscall(SYS_ftruncate, fd, -1L));
  CHECK_RET("write_after_truncate_at_old_offset", syscall(SYS_write, fd, "!", 1));
  stat_line("stat_after_write_past_end", (int)dfd, "f", 0);
  CHECK_RET("fchmod_600", syscall(SYS_fchmod, fd, 0600));
  stat_line("stat_after_fchmod", (int)dfd, "f", 0);
  CHECK_RET("close_f", syscall(SYS_close, fd));

  errno = 0;
  fd = syscall(SYS_openat, dfd, "f", O_WRONLY | O_APPEND);
  check_ret("open_append", fd, errno);
  CHECK_RET("write_append", syscall(SYS_write, fd, "++", 2));
  stat_line("stat_after_append", (int)dfd, "f", 0);
  CHECK_RET("read_on_write_only", syscall(SYS_read, fd, buf, 1));
  CHECK_RET("close_append", syscall(SYS_close, fd));
  errno = 0;
  fd = syscall(SYS_openat, dfd, "f", O_RDONLY);
  check_ret("open_read_only", fd, errno);
  CHECK_RET("write_on_read_only", syscall(SYS_write, fd, "x", 1));
  CHECK_RET("ftruncate_read_only", syscall(SYS_ftruncate, fd, 0L));
  CHECK_RET("close_read_only", syscall(SYS_close, fd));
  errno = 0;
  fd = syscall(SYS_openat, dfd, "f", O_WRONLY | O_TRUNC);
  check_ret("open_trunc", fd, errno);
  stat_line("stat_after_o_trunc", (int)dfd, "f", 0);
  CHECK_RET("close_trunc", syscall(SYS_close, fd));

  char p[256];
  snprintf(p, sizeof p, "%s/f", base);
  CHECK_RET("truncate_path_grow", syscall(SYS_truncate, p, 4096L));
  stat_line("stat_after_truncate", (int)dfd, "f", 0);
  CHECK_RET("creat_g", syscall(SYS_creat, "/tmp/../tmp/moat-conf-nonexistent-dir/g", 0644));

  CHECK_RET("mkdirat_d", syscall(SYS_mkdirat, dfd, "d", 0750));
  CHECK_RET("mkdirat_d_again", syscall(SYS_mkdirat, dfd, "d", 0750));
  stat_line("stat_d", (int)dfd, "d", 0);
  CHECK_RET("mkdirat_under_file", syscall(SYS_mkdirat, dfd, "f/x", 0755));
  CHECK_RET("renameat_f_to_d_g", syscall(SYS_renameat, dfd, "f", dfd, "d/g"));
  stat_line("stat_f_after_rename", (int)dfd, "f", 0);
  stat_line("stat_d_g", (int)dfd, "d/g", 0);
  CHECK_RET("linkat_h", syscall(SYS_linkat, dfd, "d/g", dfd, "h", 0));
  stat_line("stat_h_two_links", (int)dfd, "h", 0);
  CHECK_RET("linkat_existing", syscall(SYS_linkat, dfd, "d/g", dfd, "h", 0));
  CHECK_RET("symlinkat_s", syscall(SYS_symlinkat, "d/g", dfd, "s"));
  memset(buf, 0, sizeof buf);
  CHECK_RET("readlinkat_s", syscall(SYS_readlinkat, dfd, "s", buf, sizeof buf));
  printf("readlinkat_s_target: %s\n", buf);
  stat_line("stat_through_s", (int)dfd, "s", 0);
  CHECK_RET("rename_over_existing", syscall(SYS_renameat, dfd, "h", dfd, "s"));
  stat_line("lstat_s_after_rename", (int)dfd, "s", AT_SYMLINK_NOFOLLOW);
  CHECK_RET("rename_dir_over_file", syscall(SYS_renameat, dfd, "d", dfd, "s"));
  CHECK_RET("rename_missing", syscall(SYS_renameat, dfd, "missing", dfd, "x"));

  struct timespec ts[2] = {{1000000000, 0}, {1000000001, 500}};
  CHECK_RET("utimensat", syscall(SYS_utimensat, dfd, "s", ts, 0));
  struct stat st;
  memset(&st, 0, sizeof st);
  syscall(SYS_newfstatat, dfd, "s", &st, 0);
  check_true("utimensat_mtime", st.st_mtim.tv_sec == 1000000001 && st.st_mtim.tv_nsec == 500,
             "mtime not as set");
  check_true("utimensat_atime", st.st_atim.tv_sec == 1000000000, "atime not as set");

  CHECK_RET("unlinkat_dir_without_flag", syscall(SYS_unlinkat, dfd, "d", 0));
  CHECK_RET("unlinkat_nonempty_dir", syscall(SYS_unlinkat, dfd, "d", AT_REMOVEDIR));
  CHECK_RET("unlinkat_file_as_dir", syscall(SYS_unlinkat, dfd, "s", AT_REMOVEDIR));
  CHECK_RET("unlinkat_d_g", syscall(SYS_unlinkat, dfd, "d/g", 0));
  stat_line("stat_s_after_unlink_of_other_link", (int)dfd, "s", 0);
  CHECK_RET("unlinkat_s", syscall(SYS_unlinkat, dfd, "s", 0));
  CHECK_RET("unlinkat_missing", syscall(SYS_unlinkat, dfd, "s", 0));
  snprintf(p, sizeof p, "%s/d", base);
  CHECK_RET("rmdir_d", syscall(SYS_rmdir, p));
  CHECK_RET("rmdir_d_again", syscall(SYS_rmdir, p));
  CHECK_RET("getdents_empty_base", syscall(SYS_getdents64, dfd, buf, sizeof buf) > 0 ? 0 : -1);
  CHECK_RET("close_base", syscall(SYS_close, dfd));
  CHECK_RET("rmdir_base", syscall(SYS_rmdir, base));
  return check_end();
}
