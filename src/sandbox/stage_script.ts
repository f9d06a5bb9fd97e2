// The shell both stages (gofer_stage.ts, sentry_stage.ts) start with: functions that build a
// process's whole world in a tmpfs at /tmp of a private mount namespace, before Node runs.
//   hold REPO NODE   open fds 8 and 9 on moat's repository and node's directory, first: the
//                    staging tmpfs may cover their paths
//   stage            mount the staging tmpfs
//   runtime REPO NODE  read-only binds of what Node needs: the system directories (symlinks
//                    kept as symlinks), node's directory, the repository, ld.so.cache; the
//                    device files null, zero, urandom
//   procfs           a procfs of the current pid namespace at /proc
//   waitmap          wait until the launcher has written this user namespace's identity map
//                    (the waiter, waiter_image.ts, made the namespace; only a process with
//                    CAP_SETUID in the host's may map more than one id); give up after ~3 s
//   enter            make the tmpfs read-only, pivot_root into it, detach the old root
//   budget           RLIMIT_NOFILE of the process to come: at most HOST_FD_BUDGET host fds,
//                    however many files the container opens (each open of a file on a
//                    writable mount is a host fd in the Sentry and in its Gofer)
// Every bind is remounted read-only, nosuid, nodev. Nothing here touches the host's mount
// namespace (the callers run under `unshare --mount --propagation private`).

/** The most host fds the Sentry or one Gofer may hold (less where the host's hard limit is). */
export const HOST_FD_BUDGET = 65536;

export const STAGE_FUNCTIONS = `
set -eu
S=/tmp
ro() { mount -o remount,bind,ro,nosuid,nodev "$1"; }
bindpath() {
  if [ ! -e "$S$2" ]; then mkdir -p "$S$2"; fi
  mount --bind "$1" "$S$2"; ro "$S$2"
}
hold() { exec 8<"$1" 9<"$(dirname "$2")"; }
stage() {
  mount -t tmpfs -o size=1m,mode=0755,nosuid,nodev moat-stage "$S"
  mkdir "$S/proc" "$S/dev" "$S/etc"
}
runtime() {
  for d in usr bin sbin lib lib32 lib64 libx32; do
    if [ -L "/$d" ]; then ln -s "$(readlink "/$d")" "$S/$d"
    elif [ -d "/$d" ]; then mkdir "$S/$d"; mount --bind "/$d" "$S/$d"; ro "$S/$d"; fi
  done
  case "$(dirname "$2")" in /usr/*) ;; *) bindpath /proc/self/fd/9 "$(dirname "$2")";; esac
  bindpath /proc/self/fd/8 "$1"
  exec 8<&- 9<&-
  if [ -f /etc/ld.so.cache ]; then
    : > "$S/etc/ld.so.cache"; mount --bind /etc/ld.so.cache "$S/etc/ld.so.cache"; ro "$S/etc/ld.so.cache"
  fi
  for f in null zero urandom; do : > "$S/dev/$f"; mount --bind "/dev/$f" "$S/dev/$f"; done
}
waitmap() {
  n=0
  # Both maps: the launcher writes uid_map first, and a file made before gid_map is there
  # fails with EOVERFLOW (its group has no id in this namespace).
  while ! read -r m < /proc/self/uid_map || [ -z "$m" ] ||
    ! read -r m < /proc/self/gid_map || [ -z "$m" ]; do
    n=$((n + 1)); [ $n -lt 600 ] || exit 125
    sleep 0.005
  done
}
procfs() { mount -t proc -o nosuid,nodev,noexec proc "$S/proc"; }
budget() {
  h=$(ulimit -Hn)
  if [ "$h" = unlimited ] || [ "$h" -gt ${HOST_FD_BUDGET} ]; then h=${HOST_FD_BUDGET}; fi
  ulimit -n "$h"
}
enter() {
  mount -o remount,bind,ro "$S"
  cd "$S"
  pivot_root . .
  umount -l .
  cd /
}
`;
