/*
 * Conformance case: openat, read, pread64, lseek, fstat and close on regular files of the
 * harness's data directory (argv[1]): hello.txt holds "hello, conformance\n" (19 bytes),
 * big.bin 200000 bytes where byte i is (i * 7) & 0xff, empty is empty.
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

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  const char *d = argv[1];

  CHECK_RET("open_missing", syscall(SYS_openat, AT_FDCWD, in_data(d, "missing"), O_RDONLY));
  CHECK_RET("open_missing_parent",
            syscall(SYS_openat, AT_FDCWD, in_data(d, "nodir/x"), O_RDONLY));
  CHECK_RET("open_through_file",
            syscall(SYS_openat, AT_FDCWD, in_data(d, "hello.txt/x"), O_RDONLY));
  CHECK_RET("open_empty_path", syscall(SYS_openat, AT_FDCWD, "", O_RDONLY));

  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, in_data(d, "hello.txt"), O_RDONLY | O_CLOEXEC);
  check_ret("open_hello", fd, errno); /* the lowest free descriptor: 3 */
  char buf[256];
  memset(buf, 0, sizeof buf);
  CHECK_RET("read_hello_5", syscall(SYS_read, fd, buf, 5));
  check_true("read_hello_5_content", memcmp(buf, "hello", 5) == 0, "wrong bytes");
  CHECK_RET("read_hello_rest", syscall(SYS_read, fd, buf + 5, sizeof buf - 5));
  check_true("read_hello_content", strcmp(buf, "hello, conformance\n") == 0, "wrong bytes");
  CHECK_RET("read_hello_eof", syscall(SYS_read, fd, buf, sizeof buf));
  CHECK_RET("lseek_cur_at_eof", syscall(SYS_lseek, fd, 0L, SEEK_CUR));
  CHECK_RET("lseek_set_7", syscall(SYS_lseek, fd, 7L, SEEK_SET));
  memset(buf, 0, sizeof buf);
  CHECK_RET("read_after_lseek", syscall(SYS_read, fd, buf, 11));
  check_true("read_after_lseek_content", memcmp(buf, "conformance", 11) == 0, "wrong bytes");
  CHECK_RET("lseek_end_minus_1", syscall(SYS_lseek, fd, -1L, SEEK_END));
  CHECK_RET("lseek_negative", syscall(SYS_lseek, fd, -100L, SEEK_SET));
  CHECK_RET("lseek_bad_whence", syscall(SYS_lseek, fd, 0L, 42));
  CHECK_RET("lseek_past_end", syscall(SYS_lseek, fd, 1000L, SEEK_SET));
  CHECK_RET("read_past_end", syscall(SYS_read, fd, buf, 10));
  memset(buf, 0, sizeof buf);
  CHECK_RET("pread_7", syscall(SYS_pread64, fd, buf, 4, 7L));
  check_true("pread_7_content", memcmp(buf, "conf", 4) == 0, "wrong bytes");
  CHECK_RET("pread_leaves_offset", syscall(SYS_lseek, fd, 0L, SEEK_CUR));
  CHECK_RET("pread_negative_offset", syscall(SYS_pread64, fd, buf, 4, -1L));

  struct stat st;
  memset(&st, 0, sizeof st);
  CHECK_RET("fstat_hello", syscall(SYS_fstat, fd, &st));
  check_true("fstat_hello_is_reg", S_ISREG(st.st_mode), "not S_IFREG");
  check_true("fstat_hello_size_19", st.st_size == 19, "st_size is not 19");
  check_true("fstat_hello_nlink", st.st_nlink == 1, "st_nlink is not 1");
  check_true("fstat_hello_blksize", st.st_blksize > 0, "st_blksize is 0");
  CHECK_RET("write_readonly_fd", syscall(SYS_write, fd, "x", 1));
  /* readv scatters in order; preadv reads at an offset. */
  char v1[6], v2[20];
  memset(v1, 0, sizeof v1);
  memset(v2, 0, sizeof v2);
  struct iovec { void *base; size_t len; } iov[2] = {{v1, 5}, {v2, 19}};
  CHECK_RET("lseek_rewind", syscall(SYS_lseek, fd, 0L, SEEK_SET));
  CHECK_RET("readv_two", syscall(SYS_readv, fd, iov, 2));
  check_true("readv_two_content", strcmp(v1, "hello") == 0 && strcmp(v2, ", conformance\n") == 0,
             "wrong bytes");
  CHECK_RET("readv_zero_iovecs", syscall(SYS_readv, fd, iov, 0));
  CHECK_RET("readv_bad_count", syscall(SYS_readv, fd, iov, -1));
  CHECK_RET("close_hello", syscall(SYS_close, fd));
  CHECK_RET("close_again", syscall(SYS_close, fd));
  CHECK_RET("read_closed", syscall(SYS_read, fd, buf, 1));

  /* A larger file read in odd-sized chunks: every byte, then EOF; the size agrees. */
  errno = 0;
  fd = syscall(SYS_openat, AT_FDCWD, in_data(d, "big.bin"), O_RDONLY);
  check_ret("open_big", fd, errno);
  static unsigned char big[65536];
  long total = 0, bad = 0, n;
  while ((n = syscall(SYS_read, fd, big, 4099)) > 0) {
    for (long i = 0; i < n; i++)
      if (big[i] != (unsigned char)(((total + i) * 7) & 0xff)) bad++;
    total += n;
  }
  check_ret("read_big_last", n, errno);
  check_true("read_big_total", total == 200000, "did not read 200000 bytes");
  check_true("read_big_content", bad == 0, "bytes differ from the pattern");
  memset(&st, 0, sizeof st);
  syscall(SYS_fstat, fd, &st);
  check_true("fstat_big_size_matches_read", st.st_size == total, "st_size != bytes read");
  CHECK_RET("pread_big_tail", syscall(SYS_pread64, fd, big, 65536, 199990L));
  check_true("pread_big_tail_content", big[0] == (unsigned char)((199990L * 7) & 0xff),
             "wrong byte");
  CHECK_RET("close_big", syscall(SYS_close, fd));

  errno = 0;
  fd = syscall(SYS_openat, AT_FDCWD, in_data(d, "empty"), O_RDONLY);
  check_ret("open_empty_file", fd, errno);
  CHECK_RET("read_empty_file", syscall(SYS_read, fd, buf, sizeof buf));
  CHECK_RET("close_empty_file", syscall(SYS_close, fd));

  /* openat relative to a directory descriptor. */
  errno = 0;
  long dfd = syscall(SYS_openat, AT_FDCWD, d, O_RDONLY | O_DIRECTORY);
  check_ret("open_data_dir", dfd, errno);
  errno = 0;
  fd = syscall(SYS_openat, dfd, "hello.txt", O_RDONLY);
  check_ret("openat_relative", fd, errno);
  memset(buf, 0, sizeof buf);
  CHECK_RET("read_openat_relative", syscall(SYS_read, fd, buf, 5));
  check_true("read_openat_relative_content", memcmp(buf, "hello", 5) == 0, "wrong bytes");
  CHECK_RET("openat_relative_dotdot",
            syscall(SYS_openat, dfd, "dir/../hello.txt", O_RDONLY));
  CHECK_RET("openat_relative_missing", syscall(SYS_openat, dfd, "nope", O_RDONLY));
  CHECK_RET("openat_nofollow_symlink",
            syscall(SYS_openat, dfd, "link", O_RDONLY | O_NOFOLLOW));
  CHECK_RET("openat_follow_dangling", syscall(SYS_openat, dfd, "dangling", O_RDONLY));
  CHECK_RET("openat_file_as_dirfd", syscall(SYS_openat, fd, "x", O_RDONLY));
  return check_end();
}
