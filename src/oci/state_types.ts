// The container record kept in <root>/<id>/state.json and the OCI state that `moat state`
// prints (runtime-spec runtime.md "State"). Pure types and one pure conversion; never does
// I/O.

export type ContainerStatus = 'creating' | 'created' | 'running' | 'stopped';

/** A host process, identified by pid and start time so that a recycled pid is never ours. */
export interface ProcessRef {
  pid: number;
  /** Field 22 of /proc/<pid>/stat (clock ticks since boot), as a decimal string. */
  startTime: string;
}

export interface SandboxRecord {
  /** The `unshare` process that holds the sandbox's namespaces (parent of the Sentry). */
  sandbox: ProcessRef;
  /** The Sentry itself (pid 1 of the sandbox's pid namespace), when it could be found. */
  sentry?: ProcessRef;
  gofer: ProcessRef;
  /** One more Gofer per bind mount of a directory, in config.json's order. */
  mountGofers?: ProcessRef[];
  controlSocket: string;
  /** The sandbox's host cgroups: `dirs` on each hierarchy, `created` the ones moat made. */
  cgroups?: { dirs: string[]; created: string[] };
}

export interface ContainerRecord {
  ociVersion: string;
  id: string;
  /** The last status the CLI recorded: created until start succeeds, then running. */
  status: 'created' | 'running';
  /**
   * Host pid reported as the container's (state, --pid-file): the sandbox process, whose exit
   * status is the container's and which a subreaping supervisor inherits from the CLI.
   */
  pid: number;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations: Record<string, string>;
  sandbox: SandboxRecord;
}

/** What `moat state` prints: OCI state plus runc's extra fields. */
export interface OciState {
  ociVersion: string;
  id: string;
  pid: number;
  status: ContainerStatus;
  bundle: string;
  rootfs: string;
  created: string;
  owner: string;
  annotations?: Record<string, string>;
}

export function toOciState(rec: ContainerRecord, status: ContainerStatus): OciState {
  const s: OciState = {
    ociVersion: rec.ociVersion,
    id: rec.id,
    pid: status === 'stopped' ? 0 : rec.pid,
    status,
    bundle: rec.bundle,
    rootfs: rec.rootfs,
    created: rec.created,
    owner: rec.owner,
  };
  if (Object.keys(rec.annotations).length > 0) s.annotations = rec.annotations;
  return s;
}
