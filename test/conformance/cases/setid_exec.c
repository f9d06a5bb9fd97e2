/*
 * Set-id executables: a process that dropped to uid/gid 1000 execs copies of cat(1) the
 * harness made in data/setid (set-user-ID root, set-group-ID 4321, set-user-ID 2000) and reads
 * its own /proc/self/status through them: the real, effective, saved and filesystem ids and
 * the capability sets the exec gave it, with and without no_new_privs (which keeps the ids
 * and gives nothing). Also root exec'ing a set-user-ID 2000 file (its capabilities go, as
 * the effective id leaves 0) and the exec of a set-id file by root with no_new_privs.
 */
#include "../include/check.h"

#include <grp.h>
#include <sys/prctl.h>

static const char *data;

/* Runs `prog /proc/self/status` after `prep`; prints the lines about credentials. */
static void report(const char *name, const char *prog, int drop, int nnp) {
  int fds[2];
  if (pipe(fds) != 0) return;
  fflush(stdout);
  pid_t p = fork();
  if (p == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    if (drop) {
      gid_t none[1] = {1000};
      if (setgroups(1, none) != 0 || setresgid(1000, 1000, 1000) != 0 ||
          setresuid(1000, 1000, 1000) != 0)
        _exit(90);
    }
    if (nnp) prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
    char path[512];
    snprintf(path, sizeof path, "%s/setid/%s", data, prog);
    execl(path, path, "/proc/self/status", (char *)NULL);
    _exit(91);
  }
  close(fds[1]);
  FILE *f = fdopen(fds[0], "r");
  char line[512];
  int lines = 0;
  while (f != NULL && fgets(line, sizeof line, f) != NULL) {
    static const char *keep[] = {"Uid:", "Gid:", "Groups:", "CapInh:", "CapPrm:", "CapEff:",
                                 "CapAmb:", "NoNewPrivs:"};
    for (unsigned i = 0; i < sizeof keep / sizeof keep[0]; i++) {
      if (strncmp(line, keep[i], strlen(keep[i])) != 0) continue;
      line[strcspn(line, "\n")] = 0;
      for (char *c = line; *c != 0; c++)
        if (*c == '\t') *c = ' ';
      printf("%s_%.*s: %s\n", name, (int)(strlen(keep[i]) - 1), keep[i],
             line + strlen(keep[i]) + 1);
      lines++;
    }
  }
  if (f != NULL) fclose(f);
  int st = 0;
  waitpid(p, &st, 0);
  printf("%s_status: %d lines=%d\n", name, WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
         lines);
}

int main(int argc, char **argv) {
  check_begin();
  data = argc > 1 ? argv[1] : ".";
  report("suid_root", "cat-suid", 1, 0);
  report("sgid", "cat-sgid", 1, 0);
  report("suid_2000", "cat-suid-2000", 1, 0);
  report("suid_root_nnp", "cat-suid", 1, 1);
  report("sgid_nnp", "cat-sgid", 1, 1);
  report("root_to_2000", "cat-suid-2000", 0, 0);
  report("root_nnp", "cat-suid-2000", 0, 1);
  return check_end();
}
