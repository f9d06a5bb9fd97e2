/*
 * Conformance case: credentials and capabilities. The set-id family (setuid, setgid,
 * setreuid, setregid, setresuid, setresgid, setfsuid, setfsgid), setgroups/getgroups,
 * capget/capset (versions, the rules for raising), prctl's capability operations (bounding
 * set, keepcaps, ambient), what leaving uid 0 does to the capability sets, what a process
 * without capabilities may not do (chown, chmod of another's file, chroot, raising a hard
 * limit), and chown clearing set-user-ID and set-group-ID. Each change happens in a child of
 * its own. The harness runs it as the same user natively and in moat (moat do gives the
 * sandbox the caller's own capability sets), so capability masks print the same.
 */
#include "../include/check.h"
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void caps(const char *name) {
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  long r = syscall(SYS_capget, &h, d);
  printf("%s: ret=%ld eff=%08x%08x prm=%08x%08x inh=%08x%08x\n", name, r, d[1].effective,
         d[0].effective, d[1].permitted, d[0].permitted, d[1].inheritable, d[0].inheritable);
}

static void ids(const char *name) {
  unsigned r, e, s, gr, ge, gs;
  syscall(SYS_getresuid, &r, &e, &s);
  syscall(SYS_getresgid, &gr, &ge, &gs);
  printf("%s: uid=%u,%u,%u gid=%u,%u,%u\n", name, r, e, s, gr, ge, gs);
}

static void drop_to_user(void) {
  CHECK_RET("setgroups", syscall(SYS_setgroups, 3, (gid_t[]){30, 10, 20}));
  gid_t g[8] = {0};
  CHECK_RET("getgroups_count", syscall(SYS_getgroups, 8, g));
  printf("getgroups_values: %u %u %u\n", g[0], g[1], g[2]);
  CHECK_RET("getgroups_too_small", syscall(SYS_getgroups, 1, g));
  CHECK_RET("setresgid_user", syscall(SYS_setresgid, 1000, 1000, 1000));
  CHECK_RET("setresuid_user", syscall(SYS_setresuid, 1000, 1000, 1000));
  ids("ids_after_drop");
  caps("caps_after_drop");
  CHECK_RET("setuid_back_to_root", syscall(SYS_setuid, 0));
  CHECK_RET("setresuid_other_user", syscall(SYS_setresuid, -1, 1001, -1));
  CHECK_RET("setgroups_unprivileged", syscall(SYS_setgroups, 0, NULL));
  CHECK_RET("setuid_self", syscall(SYS_setuid, 1000));
  CHECK_RET("chroot_unprivileged", chroot("/"));
  struct rlimit rl;
  getrlimit(RLIMIT_NOFILE, &rl);
  rl.rlim_max += 1;
  CHECK_RET("raise_nofile_hard", setrlimit(RLIMIT_NOFILE, &rl));
  CHECK_RET("capset_raise", syscall(SYS_capset,
                                    &(struct __user_cap_header_struct){_LINUX_CAPABILITY_VERSION_3, 0},
                                    (struct __user_cap_data_struct[2]){{1, 1, 0}, {0, 0, 0}}));
}

static void keepcaps(void) {
  CHECK_RET("keepcaps_get", prctl(PR_GET_KEEPCAPS, 0, 0, 0, 0));
  CHECK_RET("keepcaps_set", prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0));
  CHECK_RET("keepcaps_bad", prctl(PR_SET_KEEPCAPS, 2, 0, 0, 0));
  CHECK_RET("setresuid_keep", syscall(SYS_setresuid, 1000, 1000, 1000));
  caps("caps_kept");
  struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct d[2];
  syscall(SYS_capget, &h, d);
  d[0].effective = d[0].permitted & (1u << CAP_CHOWN);
  d[1].effective = 0;
  CHECK_RET("capset_effective_from_permitted", syscall(SYS_capset, &h, d));
  caps("caps_raised");
  d[0].permitted |= 1u << CAP_SYS_RESOURCE;
  d[0].permitted |= 1u << CAP_SYS_MODULE;
  CHECK_RET("capset_beyond_permitted", syscall(SYS_capset, &h, d));
}

static void effective_only(void) {
  CHECK_RET("setreuid_effective", syscall(SYS_setreuid, -1, 1000));
  ids("ids_effective_user");
  caps("caps_effective_user");
  CHECK_RET("setfsuid_returns_old", syscall(SYS_setfsuid, 1234));
  CHECK_RET("setfsuid_query", syscall(SYS_setfsuid, -1));
  CHECK_RET("setreuid_back", syscall(SYS_setreuid, -1, 0));
  caps("caps_effective_root_again");
  CHECK_RET("setregid", syscall(SYS_setregid, 5, 6));
  ids("ids_setregid");
  CHECK_RET("setgid", syscall(SYS_setgid, 7));
  ids("ids_setgid");
}

static void bounding(void) {
  CHECK_RET("capbset_read_chown", prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0));
  CHECK_RET("capbset_read_bad", prctl(PR_CAPBSET_READ, 200, 0, 0, 0));
  CHECK_RET("capbset_drop_mknod", prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0));
  CHECK_RET("capbset_read_mknod", prctl(PR_CAPBSET_READ, CAP_MKNOD, 0, 0, 0));
  CHECK_RET("ambient_is_set", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, CAP_CHOWN, 0, 0));
  CHECK_RET("ambient_raise_not_inheritable",
            prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_CHOWN, 0, 0));
  CHECK_RET("ambient_clear_all", prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0));
  CHECK_RET("ambient_bad_op", prctl(PR_CAP_AMBIENT, 99, 0, 0, 0));
}

static void chown_clears_setid(void) {
  char path[64];
  snprintf(path, sizeof path, "/tmp/moat-creds-%d", (int)getpid());
  int fd = open(path, O_CREAT | O_WRONLY | O_EXCL, 0755);
  close(fd);
  struct stat st;
  chmod(path, 04755);
  stat(path, &st);
  printf("mode_setuid: %o\n", st.st_mode & 07777);
  CHECK_RET("chown_setuid_file", chown(path, 1000, 1000));
  stat(path, &st);
  printf("mode_after_chown: %o\n", st.st_mode & 07777);
  chmod(path, 02755);
  CHECK_RET("chown_setgid_group_exec", chown(path, -1, 1001));
  stat(path, &st);
  printf("mode_setgid_group_exec: %o\n", st.st_mode & 07777);
  chmod(path, 02745);
  CHECK_RET("chown_setgid_no_group_exec", chown(path, -1, 1002));
  stat(path, &st);
  printf("mode_setgid_no_group_exec: %o\n", st.st_mode & 07777);
  /* Without CAP_CHOWN/CAP_FOWNER: the file is another user's now. */
  chown(path, 0, 0);
  syscall(SYS_setresuid, 1000, 1000, 1000);
  CHECK_RET("chmod_others_file", chmod(path, 0777));
  CHECK_RET("chown_others_file", chown(path, 1000, 1000));
  unlink(path);
}

int main(void) {
  check_begin();
  struct __user_cap_header_struct h = {0, 0};
  CHECK_RET("capget_bad_version", syscall(SYS_capget, &h, NULL));
  printf("capget_preferred_version: %x\n", h.version);
  h.version = _LINUX_CAPABILITY_VERSION_3;
  CHECK_RET("capget_probe", syscall(SYS_capget, &h, NULL));
  h.pid = 999999;
  struct __user_cap_data_struct d[2];
  CHECK_RET("capget_missing_pid", syscall(SYS_capget, &h, d));
  CHECK_RET("capget_bad_pointer", syscall(SYS_capget, BAD_PTR, d));
  caps("caps_start");
  ids("ids_start");
  check_in_child(drop_to_user);
  check_in_child(keepcaps);
  check_in_child(effective_only);
  check_in_child(bounding);
  check_in_child(chown_clears_setid);
  return check_end();
}
