/*
 * Conformance case: uname(2). sysname and machine are printed (the same on every x86-64
 * Linux); the others are only checked to be non-empty, since release and nodename belong
 * to the host or the sandbox.
 */
#include "../include/check.h"
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void) {
  check_begin();
  struct utsname u;
  memset(&u, 0, sizeof u);
  CHECK_RET("uname", syscall(SYS_uname, &u));
  printf("uname_sysname: %s\n", u.sysname);
  printf("uname_machine: %s\n", u.machine);
  check_true("uname_release_nonempty", u.release[0] != 0, "empty release");
  check_true("uname_version_nonempty", u.version[0] != 0, "empty version");
  check_true("uname_nodename_nonempty", u.nodename[0] != 0, "empty nodename");
  check_true("uname_release_terminated", memchr(u.release, 0, sizeof u.release) != NULL,
             "release is not NUL-terminated");
  char host[256];
  memset(host, 0, sizeof host);
  CHECK_RET("gethostname", gethostname(host, sizeof host));
  check_true("gethostname_matches_uname", strcmp(host, u.nodename) == 0,
             "gethostname differs from uname's nodename");
  CHECK_RET("uname_bad_pointer", syscall(SYS_uname, BAD_PTR));
  return check_end();
}
