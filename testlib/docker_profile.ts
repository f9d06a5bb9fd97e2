// Docker's default seccomp profile, as Debian ships it (golang-github-docker-docker-dev's
// profiles/seccomp/default.json, Docker 20.10), and the conversion dockerd makes of it into a
// config.json `linux.seccomp` for one container: rules whose `includes` the container does not
// meet (capabilities in its bounding set, architecture, minimum kernel) or whose `excludes` it
// does meet are dropped; the architecture map gives the native architecture and its
// sub-architectures. The .deb is fetched with apt-get download and only that one file is
// kept, in the test cache outside the repository.
//
// It must never install the package (its dependencies are a Go source tree), and never write
// under the repository.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CACHE_ROOT } from './debian_rootfs.js';

const PACKAGE = 'golang-github-docker-docker-dev';
const MEMBER = './usr/share/gocode/src/github.com/docker/docker/profiles/seccomp/default.json';

interface Filter {
  caps?: string[];
  arches?: string[];
  minKernel?: string;
}

interface MobyRule {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: Array<{ index: number; value: number; valueTwo?: number; op: string }> | null;
  includes?: Filter;
  excludes?: Filter;
}

export interface MobyProfile {
  defaultAction: string;
  defaultErrnoRet?: number;
  archMap?: Array<{ architecture: string; subArchitectures: string[] | null }>;
  syscalls: MobyRule[];
}

/** The capabilities Docker gives a container by default (its bounding set). */
export const DOCKER_DEFAULT_CAPS = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/**
 * Docker's default profile from Debian's package, cached; or a reason it cannot be had (no
 * apt, no network to the archive).
 */
export function dockerDefaultProfile(): MobyProfile | string {
  const cached = path.join(CACHE_ROOT, 'docker-seccomp-default.json');
  if (!fs.existsSync(cached)) {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'moat-docker-profile-'));
    try {
      execFileSync('apt-get', ['download', PACKAGE], { cwd: tmp, stdio: 'pipe' });
      const deb = fs.readdirSync(tmp).find((f) => f.endsWith('.deb'));
      if (deb === undefined) return `apt-get download ${PACKAGE} brought no .deb`;
      const tar = execFileSync('dpkg-deb', ['--fsys-tarfile', path.join(tmp, deb)], {
        maxBuffer: 64 << 20,
      });
      const json = execFileSync('tar', ['-xO', MEMBER], { input: tar, maxBuffer: 1 << 20 });
      fs.mkdirSync(CACHE_ROOT, { recursive: true });
      fs.writeFileSync(`${cached}.tmp`, json);
      fs.renameSync(`${cached}.tmp`, cached);
    } catch (e) {
      return `Docker's default profile from ${PACKAGE}: ${(e as Error).message.split('\n')[0] ?? ''}`;
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  }
  return JSON.parse(fs.readFileSync(cached, 'utf8')) as MobyProfile;
}

function kernelAtLeast(release: string, min: string): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map(Number);
  const [c = 0, d = 0] = min.split('.').map(Number);
  return a > c || (a === c && b >= d);
}

/**
 * What dockerd puts in config.json for a container with bounding set `caps` on amd64 and this
 * host's kernel (profiles/seccomp: setupSeccomp's filtering).
 */
export function dockerSpecProfile(p: MobyProfile, caps: readonly string[]): object {
  const arch = 'amd64';
  const release = os.release();
  const matches = (f: Filter | undefined, all: boolean): boolean => {
    const checks: boolean[] = [];
    if (f?.arches !== undefined && f.arches.length > 0) checks.push(f.arches.includes(arch));
    if (f?.caps !== undefined && f.caps.length > 0) {
      checks.push(
        all ? f.caps.every((c) => caps.includes(c)) : f.caps.some((c) => caps.includes(c)),
      );
    }
    if (f?.minKernel !== undefined && f.minKernel !== '')
      checks.push(kernelAtLeast(release, f.minKernel));
    return all ? checks.every(Boolean) : checks.some(Boolean);
  };
  const native = p.archMap?.find((m) => m.architecture === 'SCMP_ARCH_X86_64');
  return {
    defaultAction: p.defaultAction,
    ...(p.defaultErrnoRet !== undefined ? { defaultErrnoRet: p.defaultErrnoRet } : {}),
    architectures: ['SCMP_ARCH_X86_64', ...(native?.subArchitectures ?? [])],
    syscalls: p.syscalls
      .filter((r) => matches(r.includes, true) && !matches(r.excludes, false))
      .map((r) => ({
        names: r.names,
        action: r.action,
        ...(r.errnoRet !== undefined ? { errnoRet: r.errnoRet } : {}),
        ...(r.args !== undefined && r.args !== null && r.args.length > 0 ? { args: r.args } : {}),
      })),
  };
}
