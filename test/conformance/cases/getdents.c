/*
 * Conformance case: getdents64 over the harness's data directory argv[1]/dir, which holds
 * exactly the entries a, b, c (empty files) and sub (a directory). The program sorts what
 * it reads and compares it with that list, so the order the file system returns does not
 * matter; d_type must be right for each.
 */
#include "../include/check.h"
#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

static char names[64][256];
static unsigned char types[64];
static int count;

static int cmp(const void *a, const void *b) { return strcmp(a, b); }

/* Reads every entry with a buffer of the given size; returns the last getdents64 result. */
static long read_all(long fd, size_t bufsize) {
  static char buf[65536];
  count = 0;
  long n;
  while ((n = syscall(SYS_getdents64, fd, buf, bufsize)) > 0) {
    for (long off = 0; off < n;) {
      struct linux_dirent64 *e = (struct linux_dirent64 *)(buf + off);
      if (count < 64) {
        snprintf(names[count], sizeof names[count], "%s", e->d_name);
        types[count] = e->d_type;
        count++;
      }
      off += e->d_reclen;
    }
  }
  return n;
}

static char got[4096];
static const char *sorted_names(void) {
  char tmp[64][256];
  memcpy(tmp, names, sizeof tmp);
  qsort(tmp, (size_t)count, sizeof tmp[0], cmp);
  got[0] = 0;
  for (int i = 0; i < count; i++) {
    strcat(got, tmp[i]);
    if (i + 1 < count) strcat(got, ",");
  }
  return got;
}

static int type_of(const char *name) {
  for (int i = 0; i < count; i++)
    if (strcmp(names[i], name) == 0) return types[i];
  return -1;
}

int main(int argc, char **argv) {
  check_begin();
  if (argc < 2) return 2;
  char p[4096];
  snprintf(p, sizeof p, "%s/dir", argv[1]);

  errno = 0;
  long fd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_DIRECTORY);
  check_ret("open_dir", fd, errno);
  errno = 0;
  long last = read_all(fd, sizeof(char[65536]));
  check_ret("getdents_last", last, errno);
  const char *want = ".,..,a,b,c,sub";
  printf("getdents_names: %s\n", sorted_names());
  check_true("getdents_names_match", strcmp(got, want) == 0, "unexpected entries");
  check_true("getdents_dtype_file", type_of("a") == DT_REG, "a is not DT_REG");
  check_true("getdents_dtype_dir", type_of("sub") == DT_DIR, "sub is not DT_DIR");
  CHECK_RET("getdents_at_end", syscall(SYS_getdents64, fd, got, sizeof got));

  /* Rewinding restarts the listing. */
  CHECK_RET("lseek_dir_rewind", syscall(SYS_lseek, fd, 0L, SEEK_SET));
  read_all(fd, 64); /* a small buffer: one or two entries per call */
  printf("getdents_small_buffer_names: %s\n", sorted_names());

  CHECK_RET("lseek_dir_rewind_again", syscall(SYS_lseek, fd, 0L, SEEK_SET));
  char tiny[8];
  CHECK_RET("getdents_buffer_too_small", syscall(SYS_getdents64, fd, tiny, sizeof tiny));
  CHECK_RET("read_on_dir", syscall(SYS_read, fd, tiny, sizeof tiny));

  snprintf(p, sizeof p, "%s/hello.txt", argv[1]);
  errno = 0;
  long ffd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY);
  check_ret("open_file", ffd, errno);
  CHECK_RET("getdents_on_file", syscall(SYS_getdents64, ffd, got, sizeof got));
  CHECK_RET("open_file_o_directory", syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_DIRECTORY));
  CHECK_RET("getdents_bad_fd", syscall(SYS_getdents64, 999, got, sizeof got));

  snprintf(p, sizeof p, "%s/dir/sub", argv[1]);
  errno = 0;
  long sfd = syscall(SYS_openat, AT_FDCWD, p, O_RDONLY | O_DIRECTORY);
  check_ret("open_empty_dir", sfd, errno);
  read_all(sfd, sizeof(char[65536]));
  printf("getdents_empty_dir_names: %s\n", sorted_names());
  return check_end();
}
