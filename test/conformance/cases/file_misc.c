/*
 * Conformance case: calls on files of the data directory (argv[1]) that change no data:
 * statfs/fstatfs (agreeing with each other), flock (shared, exclusive, unlock, on a
 * second open file description), sendfile into a pipe, fadvise64.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  char p[4096];
  snprintf(p, sizeof p, "%s/hello.txt", argv[1]);
  struct statfs a, b;
  memset(&a, 0, sizeof a);
  memset(&b, 0, sizeof b);
  CHECK_RET("statfs_data", syscall(SYS_statfs, argv[1], &a));
  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_hello", fd, errno);
  CHECK_RET("fstatfs_hello", syscall(SYS_fstatfs, fd, &b));
  check_true("statfs_agrees", a.f_type == b.f_type && a.f_bsize == b.f_bsize && a.f_bsize > 0,
             "statfs and fstatfs differ");
  CHECK_RET("statfs_missing", syscall(SYS_statfs, "/nonexistent-moat-conformance", &a));
  CHECK_RET("statfs_bad_buffer", syscall(SYS_statfs, argv[1], BAD_PTR));

  CHECK_RET("flock_shared", syscall(SYS_flock, fd, LOCK_SH));
  CHECK_RET("flock_exclusive_upgrade", syscall(SYS_flock, fd, LOCK_EX | LOCK_NB));
  errno = 0;
  long fd2 = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_hello_again", fd2, errno);
  CHECK_RET("flock_conflict_nonblock", syscall(SYS_flock, fd2, LOCK_SH | LOCK_NB));
  CHECK_RET("flock_unlock", syscall(SYS_flock, fd, LOCK_UN));
  CHECK_RET("flock_after_unlock", syscall(SYS_flock, fd2, LOCK_EX | LOCK_NB));
  CHECK_RET("flock_bad_op", syscall(SYS_flock, fd, 0));
  CHECK_RET("flock_bad_fd", syscall(SYS_flock, 999, LOCK_SH));

  int pp[2];
  /* Non-blocking, so that a sendfile that moved nothing cannot hang the read below. */
  CHECK_RET("pipe2_nonblock", syscall(SYS_pipe2, pp, O_NONBLOCK));
  long off = 7;
  CHECK_RET("sendfile_to_pipe", syscall(SYS_sendfile, pp[1], fd, &off, 11));
  printf("sendfile_offset_after: %ld\n", off);
  CHECK_RET("sendfile_leaves_file_offset", syscall(SYS_lseek, fd, 0L, SEEK_CUR));
  char buf[64];
  memset(buf, 0, sizeof buf);
  CHECK_RET("read_sendfile_data", syscall(SYS_read, pp[0], buf, sizeof buf));
  check_true("sendfile_content", strcmp(buf, "conformance") == 0, "wrong bytes");
  CHECK_RET("sendfile_null_offset", syscall(SYS_sendfile, pp[1], fd, NULL, 5));
  CHECK_RET("file_offset_after_null_offset_sendfile", syscall(SYS_lseek, fd, 0L, SEEK_CUR));
  CHECK_RET("sendfile_bad_in_fd", syscall(SYS_sendfile, pp[1], 999, NULL, 5));
  CHECK_RET("sendfile_from_write_end", syscall(SYS_sendfile, pp[1], pp[1], NULL, 5));

  CHECK_RET("fadvise_sequential", syscall(SYS_fadvise64, fd, 0L, 0L, 2 /* POSIX_FADV_SEQUENTIAL */));
  CHECK_RET("fadvise_bad_advice", syscall(SYS_fadvise64, fd, 0L, 0L, 99));
  CHECK_RET("fadvise_pipe", syscall(SYS_fadvise64, pp[0], 0L, 0L, 2));
  return check_end();
}
