/*
 * Conformance case: newfstatat (stat, lstat, AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW) and fstat
 * on files, directories and symlinks of the data directory (argv[1]); prints only fields
 * that are the same on every host: file type bits, permission bits the harness set, sizes
 * of files it wrote and the agreement between two ways of asking.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char path_buf[4096];
static const char *in_data(const char *dir, const char *name) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, name);
  return path_buf;
}

static const char *type_name(mode_t m) {
  if (S_ISREG(m)) return "reg";
  if (S_ISDIR(m)) return "dir";
  if (S_ISLNK(m)) return "lnk";
  if (S_ISCHR(m)) return "chr";
  if (S_ISFIFO(m)) return "fifo";
  if (S_ISSOCK(m)) return "sock";
  if (S_ISBLK(m)) return "blk";
  return "unknown";
}

static void stat_line(const char *name, int dirfd, const char *p, int flags) {
  struct stat st;
  memset(&st, 0, sizeof st);
  errno = 0;
  long r = syscall(SYS_newfstatat, dirfd, p, &st, flags);
  if (r < 0) {
    check_ret(name, r, errno);
    return;
  }
  printf("%s: ret=%ld type=%s perm=%04o size=%lld\n", name, r, type_name(st.st_mode),
         (unsigned)(st.st_mode & 07777), S_ISDIR(st.st_mode) ? -1LL : (long long)st.st_size);
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  const char *d = argv[1];

  stat_line("stat_hello", AT_FDCWD, in_data(d, "hello.txt"), 0);
  stat_line("stat_big", AT_FDCWD, in_data(d, "big.bin"), 0);
  stat_line("stat_empty", AT_FDCWD, in_data(d, "empty"), 0);
  stat_line("stat_dir", AT_FDCWD, in_data(d, "dir"), 0);
  stat_line("stat_dir_trailing_slash", AT_FDCWD, in_data(d, "dir/"), 0);
  stat_line("stat_file_trailing_slash", AT_FDCWD, in_data(d, "hello.txt/"), 0);
  stat_line("stat_link_follows", AT_FDCWD, in_data(d, "link"), 0);
  stat_line("lstat_link", AT_FDCWD, in_data(d, "link"), AT_SYMLINK_NOFOLLOW);
  stat_line("stat_dangling", AT_FDCWD, in_data(d, "dangling"), 0);
  stat_line("lstat_dangling", AT_FDCWD, in_data(d, "dangling"), AT_SYMLINK_NOFOLLOW);
  stat_line("stat_missing", AT_FDCWD, in_data(d, "missing"), 0);
  stat_line("stat_empty_path", AT_FDCWD, "", 0);
  stat_line("stat_dotdot", AT_FDCWD, in_data(d, "dir/sub/../.."), 0);
  stat_line("stat_bad_flags", AT_FDCWD, in_data(d, "hello.txt"), 0x40000000);
  stat_line("stat_root", AT_FDCWD, "/", 0);
  stat_line("stat_root_dotdot", AT_FDCWD, "/..", 0);

  errno = 0;
  long dfd = syscall(SYS_openat, AT_FDCWD, d, O_RDONLY | O_DIRECTORY);
  check_ret("open_data_dir", dfd, errno);
  stat_line("fstatat_relative", (int)dfd, "hello.txt", 0);
  stat_line("fstatat_relative_dir", (int)dfd, "dir/sub", 0);
  stat_line("fstatat_empty_path_dirfd", (int)dfd, "", AT_EMPTY_PATH);
  stat_line("fstatat_empty_path_without_flag", (int)dfd, "", 0);

  errno = 0;
  long fd = syscall(SYS_openat, (int)dfd, "big.bin", O_RDONLY);
  check_ret("open_big", fd, errno);
  struct stat a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  CHECK_RET("fstat_big", syscall(SYS_fstat, fd, &a));
  CHECK_RET("fstatat_big_empty_path", syscall(SYS_newfstatat, fd, "", &b, AT_EMPTY_PATH));
  check_true("fstat_agrees_with_fstatat",
             a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
                 a.st_mode == b.st_mode,
             "ino/dev/size/mode differ");
  memset(&b, 0, sizeof b);
  syscall(SYS_newfstatat, AT_FDCWD, in_data(d, "big.bin"), &b, 0);
  check_true("fstat_agrees_with_stat_path", a.st_ino == b.st_ino && a.st_dev == b.st_dev,
             "ino/dev differ");
  memset(&b, 0, sizeof b);
  syscall(SYS_newfstatat, AT_FDCWD, in_data(d, "link"), &b, 0);
  struct stat h;
  memset(&h, 0, sizeof h);
  syscall(SYS_newfstatat, AT_FDCWD, in_data(d, "hello.txt"), &h, 0);
  check_true("stat_link_is_target", b.st_ino == h.st_ino && b.st_dev == h.st_dev,
             "the link does not resolve to hello.txt");
  memset(&b, 0, sizeof b);
  syscall(SYS_newfstatat, AT_FDCWD, in_data(d, "dir/sub/../.."), &b, 0);
  memset(&a, 0, sizeof a);
  syscall(SYS_fstat, dfd, &a);
  check_true("dotdot_resolves_to_data_dir", a.st_ino == b.st_ino && a.st_dev == b.st_dev,
             "dir/sub/../.. is not the data directory");
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  syscall(SYS_newfstatat, AT_FDCWD, "/", &a, 0);
  syscall(SYS_newfstatat, AT_FDCWD, "/..", &b, 0);
  check_true("root_dotdot_is_root", a.st_ino == b.st_ino && a.st_dev == b.st_dev,
             "/.. is not /");
  check_true("stat_dir_nlink", a.st_nlink >= 2, "a directory has fewer than 2 links");

  /* statx: the basic fields agree with newfstatat. */
  struct statx sx;
  memset(&sx, 0, sizeof sx);
  CHECK_RET("statx_hello", syscall(SYS_statx, AT_FDCWD, in_data(d, "hello.txt"), 0, STATX_BASIC_STATS, &sx));
  check_true("statx_hello_basic_mask", (sx.stx_mask & STATX_BASIC_STATS) == STATX_BASIC_STATS,
             "not every basic field was filled");
  printf("statx_hello_fields: type=%s perm=%04o size=%llu nlink=%u\n", type_name(sx.stx_mode),
         (unsigned)(sx.stx_mode & 07777), (unsigned long long)sx.stx_size, sx.stx_nlink);
  memset(&h, 0, sizeof h);
  syscall(SYS_newfstatat, AT_FDCWD, in_data(d, "hello.txt"), &h, 0);
  check_true("statx_ino_matches_stat", sx.stx_ino == h.st_ino, "stx_ino != st_ino");
  memset(&sx, 0, sizeof sx);
  CHECK_RET("statx_lnk_nofollow",
            syscall(SYS_statx, AT_FDCWD, in_data(d, "link"), AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &sx));
  printf("statx_lnk_fields: type=%s size=%llu\n", type_name(sx.stx_mode), (unsigned long long)sx.stx_size);
  CHECK_RET("statx_empty_path_fd", syscall(SYS_statx, fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, &sx));
  printf("statx_empty_path_fd_size: %llu\n", (unsigned long long)sx.stx_size);
  CHECK_RET("statx_missing", syscall(SYS_statx, AT_FDCWD, in_data(d, "missing"), 0, STATX_BASIC_STATS, &sx));
  CHECK_RET("statx_bad_flags", syscall(SYS_statx, AT_FDCWD, in_data(d, "hello.txt"), 0x40000000, STATX_BASIC_STATS, &sx));
  CHECK_RET("statx_reserved_mask", syscall(SYS_statx, AT_FDCWD, in_data(d, "hello.txt"), 0, 0x80000000U, &sx));
  CHECK_RET("statx_bad_buffer", syscall(SYS_statx, AT_FDCWD, in_data(d, "hello.txt"), 0, STATX_BASIC_STATS, BAD_PTR));

  /* access / faccessat: existence and, as the harness runs as root, read access. */
  CHECK_RET("access_hello_f_ok", syscall(SYS_access, in_data(d, "hello.txt"), F_OK));
  CHECK_RET("access_hello_r_ok", syscall(SYS_access, in_data(d, "hello.txt"), R_OK));
  CHECK_RET("access_missing", syscall(SYS_access, in_data(d, "missing"), F_OK));
  CHECK_RET("access_dangling", syscall(SYS_access, in_data(d, "dangling"), F_OK));
  CHECK_RET("access_bad_mode", syscall(SYS_access, in_data(d, "hello.txt"), 0x100));
  CHECK_RET("faccessat_relative", syscall(SYS_faccessat, dfd, "dir/a", F_OK));
  CHECK_RET("faccessat_x_ok_on_plain_file", syscall(SYS_faccessat, dfd, "hello.txt", X_OK));
  CHECK_RET("faccessat_x_ok_on_dir", syscall(SYS_faccessat, dfd, "dir", X_OK));
  return check_end();
}
