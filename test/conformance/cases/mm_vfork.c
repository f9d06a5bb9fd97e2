/*
 * Conformance case: vfork and posix_spawn, which rely on a child sharing its parent's
 * memory until it execs or exits. A vfork child's writes are the parent's; the parent is
 * suspended until the child exits (the child sleeps 50 ms between two writes and the
 * parent sees both) or execs; a failed execve in a vfork child hands its errno back
 * through memory (ENOENT, EACCES) and _exit(127) is the status. posix_spawn (glibc:
 * clone(CLONE_VM|CLONE_VFORK), errors reported through shared memory) returns ENOENT for
 * a missing program, EACCES for a file without exec rights, ENOENT for a failing
 * file action, and leaves no child behind; a successful spawn of this program runs it.
 * variants: static dynamic
 */
#include "../include/check.h"
#include <fcntl.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile int shared_var;
static volatile int stage;
static volatile int child_errno;
static volatile pid_t child_self;

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

/* A failed exec in a vfork child: returns the errno the child saw, -1 if none. */
static pid_t vfork_exec(const char *path, char *const *av) {
  child_errno = -1;
  fflush(stdout);
  pid_t c = vfork();
  if (c == 0) {
    char *none[] = {NULL};
    execve(path, av, none);
    child_errno = errno;
    _exit(127);
  }
  return c;
}

static void spawn_line(const char *name, int r) { check_ret(name, r == 0 ? 0 : -1, r); }

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "spawned") == 0) _exit(argc == 3 && strcmp(argv[2], "x") == 0 ? 42 : 1);
  check_begin();
  if (argc < 2) return 2;
  pid_t parent = getpid();

  /* The child's writes are the parent's memory. */
  shared_var = 1;
  fflush(stdout);
  pid_t c = vfork();
  if (c == 0) {
    shared_var = 2;
    child_self = getpid();
    _exit(0);
  }
  check_true("vfork_returns_pid", c > 0, check_errno_name(errno));
  check_true("vfork_child_write_seen", shared_var == 2, "the child's write is not in the parent");
  check_true("vfork_child_own_pid", child_self == c && child_self != parent,
             "the child's getpid is not the pid vfork returned");
  reap("vfork_exit_status", c);

  /* The parent is suspended until the child exits: it sees the write made after a sleep. */
  stage = 0;
  fflush(stdout);
  c = vfork();
  if (c == 0) {
    stage = 1;
    struct timespec ms50 = {0, 50 * 1000 * 1000};
    nanosleep(&ms50, NULL);
    stage = 2;
    _exit(5);
  }
  check_true("vfork_parent_suspended", stage == 2, "the parent ran before the child exited");
  reap("vfork_sleeping_child_status", c);

  /* ... or until the child execs: here this very program, which exits 42. */
  stage = 0;
  fflush(stdout);
  c = vfork();
  if (c == 0) {
    char *av[] = {argv[0], "spawned", "x", NULL};
    stage = 1;
    execve(argv[0], av, environ);
    _exit(126);
  }
  check_true("vfork_parent_resumes_after_exec", stage == 1, "the child's write before exec is lost");
  reap("vfork_exec_self_status", c);

  /* A failed execve hands its errno back through the shared memory. */
  char *av[] = {"x", NULL};
  c = vfork_exec("/nonexistent/program", av);
  printf("vfork_exec_missing_errno: %s\n", check_errno_name(child_errno));
  reap("vfork_exec_missing_status", c);
  char hello[4096];
  snprintf(hello, sizeof hello, "%s/hello.txt", argv[1]);
  c = vfork_exec(hello, av);
  printf("vfork_exec_not_executable_errno: %s\n", check_errno_name(child_errno));
  reap("vfork_exec_not_executable_status", c);
  c = vfork_exec(argv[1], av);
  printf("vfork_exec_directory_errno: %s\n", check_errno_name(child_errno));
  reap("vfork_exec_directory_status", c);

  /* posix_spawn: errors come back as its return value; no child is left to wait for. */
  pid_t pid = -1;
  char *sav[] = {argv[0], "spawned", "x", NULL};
  spawn_line("posix_spawn_missing", posix_spawn(&pid, "/nonexistent/program", NULL, NULL, av, environ));
  CHECK_RET("posix_spawn_missing_no_child", waitpid(-1, NULL, WNOHANG));
  spawn_line("posix_spawn_not_executable", posix_spawn(&pid, hello, NULL, NULL, av, environ));
  spawn_line("posix_spawnp_missing", posix_spawnp(&pid, "moat-no-such-program", NULL, NULL, av, environ));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 5, "/nonexistent/file", O_RDONLY, 0);
  spawn_line("posix_spawn_file_action_fails", posix_spawn(&pid, argv[0], &fa, NULL, sav, environ));
  posix_spawn_file_actions_destroy(&fa);
  CHECK_RET("posix_spawn_failures_no_child", waitpid(-1, NULL, WNOHANG));

  pid = -1;
  spawn_line("posix_spawn_self", posix_spawn(&pid, argv[0], NULL, NULL, sav, environ));
  check_true("posix_spawn_self_pid", pid > 0, "no pid");
  reap("posix_spawn_self_status", pid);
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addclose(&fa, 1);
  posix_spawn_file_actions_adddup2(&fa, 2, 1);
  pid = -1;
  spawn_line("posix_spawn_with_file_actions", posix_spawn(&pid, argv[0], &fa, NULL, sav, environ));
  posix_spawn_file_actions_destroy(&fa);
  reap("posix_spawn_with_file_actions_status", pid);
  check_true("parent_memory_intact", shared_var == 2 && getpid() == parent, "the parent changed");
  return check_end();
}
