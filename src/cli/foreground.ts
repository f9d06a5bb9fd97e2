// The foreground half of `run` and `do`: start the created container, forward the signals
// this process receives to it (as runc does), wait for the sandbox to exit, delete the
// container, and return its exit status (128+n when signal n ended it). Signal handlers are
// removed before returning.

import { constants as osConstants } from 'node:os';
import { OciError } from '../oci/errors.js';
import { deleteContainer, killContainer, startContainer } from '../sandbox/container.js';
import type { CreatedContainer } from '../sandbox/container.js';
import type { ExitStatus } from '../sandbox/launcher.js';
import type { CliContext } from './context.js';

const FORWARDED: NodeJS.Signals[] = [
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGQUIT',
  'SIGUSR1',
  'SIGUSR2',
];

export function exitStatusOf(s: ExitStatus): number {
  if (s.code !== null) return s.code;
  const n = s.signal === null ? undefined : osConstants.signals[s.signal];
  return n === undefined ? 1 : 128 + n;
}

export async function runForeground(
  ctx: CliContext,
  created: CreatedContainer,
  keep = false,
): Promise<number> {
  const id = created.record.id;
  try {
    await startContainer(ctx.store, id);
  } catch (e) {
    await deleteContainer(ctx.store, id, true).catch(() => undefined);
    throw e;
  }
  const handlers = FORWARDED.map((sig) => {
    const h = (): void => {
      const n = osConstants.signals[sig];
      killContainer(ctx.store, id, n, false).catch((e: unknown) =>
        ctx.log.debug(`forward ${sig}: ${e instanceof Error ? e.message : String(e)}`),
      );
    };
    process.on(sig, h);
    return [sig, h] as const;
  });
  let status: ExitStatus;
  try {
    status = await created.launched.exited;
  } finally {
    for (const [sig, h] of handlers) process.off(sig, h);
  }
  ctx.log.debug(`container "${id}" exited: code ${status.code}, signal ${status.signal}`);
  if (!keep) {
    // Someone may have deleted it meanwhile (delete --force from another shell): that is fine.
    await deleteContainer(ctx.store, id, true).catch((e: unknown) => {
      if (!(e instanceof OciError && e.code === 'CONTAINER_NOT_FOUND')) throw e;
    });
  }
  return exitStatusOf(status);
}
