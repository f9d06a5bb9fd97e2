/*
 * Conformance case: System V shared memory. An IPC_PRIVATE segment attached by the parent
 * and, after fork, attached again by the child: the child's writes through both
 * attachments are seen by the parent; IPC_STAT's size, mode and attach count follow
 * attach, fork, exit and detach; IPC_RMID leaves the segment alive until its last detach
 * (then the id is EINVAL); shmdt of an address that is not attached is EINVAL; a keyed
 * segment is found again by key, IPC_CREAT|IPC_EXCL on it is EEXIST, a larger size
 * EINVAL, a missing key ENOENT; SHM_RDONLY attachments are SIGSEGV to write; SHM_RND
 * rounds an address. Ids, keys, pids and times are never printed.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <signal.h>
#include <stdint.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#define PAGE 4096L

static void describe(const char *name, int status) {
  if (WIFEXITED(status))
    printf("%s: exited %d\n", name, WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    printf("%s: signaled SIG%s\n", name, sigabbrev_np(WTERMSIG(status)));
  else
    printf("%s: other 0x%x\n", name, status);
}

static void reap(const char *name, pid_t c) {
  int st = 0;
  if (c < 0 || waitpid(c, &st, 0) != c) {
    printf("%s: fork or wait failed %s\n", name, check_errno_name(errno));
    return;
  }
  describe(name, st);
}

static pid_t fork_flushed(void) {
  fflush(stdout);
  return fork();
}

/* IPC_STAT's deterministic fields as one line. */
static void stat_line(const char *name, int id) {
  struct shmid_ds ds;
  memset(&ds, 0, sizeof ds);
  errno = 0;
  if (shmctl(id, IPC_STAT, &ds) != 0) {
    check_ret(name, -1, errno);
    return;
  }
  printf("%s: segsz=%lu mode=%04o nattch=%lu cpid_is_me=%d\n", name, (unsigned long)ds.shm_segsz,
         (unsigned)ds.shm_perm.mode, (unsigned long)ds.shm_nattch, ds.shm_cpid == getpid());
}

static void *attach_line(const char *name, int id, const void *addr, int flags) {
  errno = 0;
  void *p = shmat(id, addr, flags);
  check_ret(name, p == (void *)-1 ? -1 : 0, errno);
  return p;
}

int main(void) {
  check_begin();

  errno = 0;
  int id = shmget(IPC_PRIVATE, 2 * PAGE, IPC_CREAT | 0600);
  check_nonneg("shmget_private", id, errno);
  if (id < 0) return check_end();
  stat_line("stat_new", id);
  volatile unsigned char *a = attach_line("shmat", id, NULL, 0);
  if (a == (void *)-1) return check_end();
  check_true("shmat_zeroed", a[0] == 0 && a[2 * PAGE - 1] == 0, "not zero");
  stat_line("stat_attached", id);
  a[0] = 0x10;

  /* The child inherits the attachment and adds one of its own. */
  int go[2], done[2];
  if (pipe(go) != 0 || pipe(done) != 0) return 1;
  pid_t c = fork_flushed();
  if (c == 0) {
    char b;
    if (a[0] != 0x10) _exit(1);
    volatile unsigned char *own = shmat(id, NULL, 0);
    if (own == (void *)-1) _exit(2);
    own[PAGE] = 0x20;  /* through the child's own attachment */
    a[PAGE + 1] = 0x21; /* through the inherited one */
    if (write(done[1], "d", 1) != 1) _exit(3);
    if (read(go[0], &b, 1) != 1) _exit(4);
    _exit(0);
  }
  char b;
  if (read(done[0], &b, 1) != 1) return 1;
  stat_line("stat_child_attached", id);
  check_true("child_write_own_attachment_seen", a[PAGE] == 0x20, "not seen by the parent");
  check_true("child_write_inherited_attachment_seen", a[PAGE + 1] == 0x21, "not seen by the parent");
  if (write(go[1], "g", 1) != 1) return 1;
  reap("child_status", c);
  stat_line("stat_child_gone", id);

  /* SHM_RDONLY: reads fine, writes are SIGSEGV. */
  volatile unsigned char *ro = attach_line("shmat_rdonly", id, NULL, SHM_RDONLY);
  if (ro != (void *)-1) {
    check_true("rdonly_reads", ro[PAGE] == 0x20, "wrong byte");
    c = fork_flushed();
    if (c == 0) {
      signal(SIGSEGV, SIG_DFL);
      ro[0] = 1;
      _exit(0);
    }
    reap("rdonly_write_status", c);
    CHECK_RET("mprotect_rdonly_attachment_write", mprotect((void *)ro, PAGE, PROT_READ | PROT_WRITE));
    CHECK_RET("shmdt_rdonly", shmdt((const void *)ro));
  }

  /* shmdt and its errors. */
  CHECK_RET("shmdt_not_attached", shmdt((const void *)(a + PAGE)));
  int local;
  CHECK_RET("shmdt_stack_address", shmdt(&local));
  CHECK_RET("shmdt", shmdt((const void *)a));
  CHECK_RET("shmdt_again", shmdt((const void *)a));
  stat_line("stat_detached", id);

  /* IPC_RMID while attached: alive until the last detach. */
  volatile unsigned char *a2 = attach_line("shmat_before_rmid", id, NULL, 0);
  CHECK_RET("rmid_attached", shmctl(id, IPC_RMID, NULL));
  stat_line("stat_after_rmid", id);
  if (a2 != (void *)-1) {
    check_true("rmid_memory_still_there", a2[PAGE] == 0x20, "the bytes are gone");
    a2[5] = 5;
    check_true("rmid_memory_still_writable", a2[5] == 5, "the write did not stick");
    CHECK_RET("shmdt_last", shmdt((const void *)a2));
  }
  CHECK_RET("stat_after_last_detach", shmctl(id, IPC_STAT, &(struct shmid_ds){0}));
  CHECK_RET("shmat_removed", shmat(id, NULL, 0) == (void *)-1 ? -1 : 0);

  /* A keyed segment: a key nobody uses is picked without printing it. */
  key_t key = (key_t)(0x4d4f0000 | (getpid() & 0xffff));
  for (int i = 0; i < 1000 && shmget(key, 0, 0) >= 0; i++) key++;
  CHECK_RET("shmget_missing_key", shmget(key, PAGE, 0600));
  errno = 0;
  int kid = shmget(key, 3 * PAGE, IPC_CREAT | IPC_EXCL | 0640);
  check_nonneg("shmget_key_create", kid, errno);
  check_true("shmget_key_again_same_id", shmget(key, PAGE, 0) == kid, "a different id");
  CHECK_RET("shmget_key_excl_again", shmget(key, PAGE, IPC_CREAT | IPC_EXCL | 0640));
  CHECK_RET("shmget_key_larger", shmget(key, 4 * PAGE, 0));
  stat_line("stat_keyed", kid);
  CHECK_RET("rmid_keyed", shmctl(kid, IPC_RMID, NULL));
  CHECK_RET("shmget_key_after_rmid", shmget(key, PAGE, 0));

  /* Arguments. */
  CHECK_RET("shmget_size_zero", shmget(IPC_PRIVATE, 0, IPC_CREAT | 0600));
  CHECK_RET("shmctl_bad_cmd", shmctl(kid, 12345, NULL));
  CHECK_RET("shmctl_bad_id", shmctl(-1, IPC_STAT, &(struct shmid_ds){0}));
  int id3 = shmget(IPC_PRIVATE, PAGE, IPC_CREAT | 0600);
  void *hole = mmap(NULL, 4 * SHMLBA, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char *aligned = (char *)(((uintptr_t)hole + SHMLBA - 1) & ~(uintptr_t)(SHMLBA - 1));
  munmap(hole, 4 * SHMLBA);
  CHECK_RET("shmat_unaligned", shmat(id3, aligned + 100, 0) == (void *)-1 ? -1 : 0);
  void *rnd = attach_line("shmat_rnd", id3, aligned + 100, SHM_RND);
  check_true("shmat_rnd_rounded", rnd == aligned, "not rounded down to SHMLBA");
  if (rnd != (void *)-1) shmdt(rnd);
  shmctl(id3, IPC_RMID, NULL);
  return check_end();
}
