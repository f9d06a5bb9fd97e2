// The subset of the OCI runtime-spec (1.0–1.2) config.json that moat reads, as TypeScript
// types (runtime-spec config.md and config-linux.md). Values of these types only ever come
// out of spec_validate.ts, so code holding a `Spec` may trust its shape. Pure types: this
// module has no behaviour and must never grow any.

import type { Resources } from './spec_resources.js';

export interface SpecUser {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface SpecCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export interface SpecRlimit {
  type: string;
  soft: number;
  hard: number;
}

export interface SpecConsoleSize {
  height: number;
  width: number;
}

export interface SpecProcess {
  terminal: boolean;
  consoleSize?: SpecConsoleSize;
  user: SpecUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities?: SpecCapabilities;
  rlimits?: SpecRlimit[];
  noNewPrivileges: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface SpecRoot {
  path: string;
  readonly: boolean;
}

export interface SpecMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

export type NamespaceType =
  'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface SpecNamespace {
  type: NamespaceType;
  path?: string;
}

export interface SpecIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface SpecSeccompSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }>;
}

export interface SpecSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: SpecSeccompSyscall[];
}

/** linux.resources, typed and checked (spec_resources.ts): the limits moat enforces. */
export type SpecResources = Resources;

export interface SpecLinux {
  namespaces?: SpecNamespace[];
  uidMappings?: SpecIdMapping[];
  gidMappings?: SpecIdMapping[];
  resources?: SpecResources;
  cgroupsPath?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  seccomp?: SpecSeccomp;
  sysctl?: Record<string, string>;
  rootfsPropagation?: string;
  mountLabel?: string;
}

export interface Spec {
  ociVersion: string;
  process: SpecProcess;
  root: SpecRoot;
  hostname?: string;
  domainname?: string;
  mounts: SpecMount[];
  linux?: SpecLinux;
  annotations: Record<string, string>;
}
