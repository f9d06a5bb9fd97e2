// Argument checks that the Sentry's and the Gofers' allow lists share, as BPF snippets
// (bpf.ts CheckedCall): what a confined Node process may do with clone, ioctl and prctl.
// Each snippet ends in a jump to `allow` or `deny`; none lets a call through on a value it
// does not know.

import { type CheckedCall, seccompArgHi, seccompArgLo } from './bpf.js';

const SYS_ioctl = 16;
const SYS_clone = 56;
const SYS_prctl = 157;

const CLONE_THREAD = 0x00010000;
/** Namespaces, and CLONE_UNTRACED (a child a tracer could not follow). */
const CLONE_FORBIDDEN =
  0x00020000 | // CLONE_NEWNS
  0x00800000 | // CLONE_UNTRACED
  0x02000000 | // CLONE_NEWCGROUP
  0x04000000 | // CLONE_NEWUTS
  0x08000000 | // CLONE_NEWIPC
  0x10000000 | // CLONE_NEWUSER
  0x20000000 | // CLONE_NEWPID
  0x40000000; //  CLONE_NEWNET

/** clone: threads of this process only (no new process, no namespace). */
export const CLONE_THREADS_ONLY: CheckedCall = {
  nr: SYS_clone,
  emit: (p, allow, deny) => {
    p.loadWord(seccompArgHi(0))
      .jeq(0, 0, deny)
      .loadWord(seccompArgLo(0))
      .jset(CLONE_FORBIDDEN, deny)
      .jset(CLONE_THREAD, allow, deny);
  },
};

const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

/** ioctl: anything but pushing input into a terminal (TIOCSTI, TIOCLINUX). */
export const IOCTL_NO_TTY_INJECTION: CheckedCall = {
  nr: SYS_ioctl,
  emit: (p, allow, deny) => {
    p.loadWord(seccompArgLo(1)).jeq(TIOCSTI, deny).jeq(TIOCLINUX, deny, allow);
  },
};

/** prctl: naming threads and memory, and reading settings; nothing that changes privilege. */
const PRCTL_OPTIONS = [
  3, // PR_GET_DUMPABLE
  15, // PR_SET_NAME
  16, // PR_GET_NAME
  23, // PR_CAPBSET_READ
  39, // PR_GET_NO_NEW_PRIVS
  0x53564d41, // PR_SET_VMA (naming anonymous memory)
];

export const PRCTL_HARMLESS: CheckedCall = {
  nr: SYS_prctl,
  emit: (p, allow, deny) => {
    p.loadWord(seccompArgHi(0)).jeq(0, 0, deny).loadWord(seccompArgLo(0));
    PRCTL_OPTIONS.forEach((o, i) => p.jeq(o, allow, i === PRCTL_OPTIONS.length - 1 ? deny : 0));
  },
};

export const NODE_CHECKED_CALLS: readonly CheckedCall[] = [
  CLONE_THREADS_ONLY,
  IOCTL_NO_TTY_INJECTION,
  PRCTL_HARMLESS,
];

/** clone3's arguments are in memory BPF cannot read: ENOSYS makes glibc fall back to clone. */
export const CLONE3_NOT_AVAILABLE: ReadonlyMap<number, number> = new Map([[435, 38]]);
