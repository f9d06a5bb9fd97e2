// /proc/net as the sandbox sees it, rendered from its own netstack and Unix names (never the
// host's): tcp, udp (the formats of Linux's tcp4_seq_show and udp4_seq_show), unix (bound
// sockets), dev (the loopback interface's counters) and route (no route beyond loopback, so
// only the header, as Linux shows for lo alone). Never throws.

import { socketOwners, stackFor, unixNamesFor } from './sandbox_net.js';
import type { TcpState } from './stack/tcp_endpoint.js';

export const NET_FILES = ['tcp', 'udp', 'unix', 'dev', 'route'];

const TCP_STATES: Record<TcpState, number> = {
  ESTABLISHED: 1,
  SYN_SENT: 2,
  SYN_RECV: 3,
  FIN_WAIT1: 4,
  FIN_WAIT2: 5,
  TIME_WAIT: 6,
  CLOSED: 7,
  CLOSE_WAIT: 8,
  LAST_ACK: 9,
  LISTEN: 10,
  CLOSING: 11,
};

const hex = (n: number, w: number): string => n.toString(16).toUpperCase().padStart(w, '0');

/** An IPv4 address as /proc/net prints it: the network-order bytes read as a host u32. */
function addrHex(a: number): string {
  const le =
    ((a & 0xff) << 24) | (((a >>> 8) & 0xff) << 16) | (((a >>> 16) & 0xff) << 8) | (a >>> 24);
  return hex(le >>> 0, 8);
}

const HEADER =
  '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode';

function row(
  i: number,
  la: number,
  lp: number,
  ra: number,
  rp: number,
  st: number,
  tx: number,
  rx: number,
  owner: object,
  tail: string,
): string {
  const o = socketOwners.get(owner);
  return (
    `${String(i).padStart(4)}: ${addrHex(la)}:${hex(lp, 4)} ${addrHex(ra)}:${hex(rp, 4)} ` +
    `${hex(st, 2)} ${hex(tx, 8)}:${hex(rx, 8)} 00:00000000 00000000 ` +
    `${String(o?.uid ?? 0).padStart(5)} ${String(0).padStart(8)} ${String(o?.ino ?? 0n)} ${tail}`
  );
}

/** The text of /proc/net/`name` for the sandbox whose kernel is `k`, or null. */
export function renderNet(k: object, name: string): string | null {
  const st = stackFor(k);
  switch (name) {
    case 'tcp': {
      const lines = [HEADER.padEnd(149)];
      st.tcpSockets().forEach((e, i) => {
        const listen = e.state === 'LISTEN';
        const tx = listen ? e.maxBacklog : (e.sndNxt - e.sndUna) >>> 0;
        const rx = listen ? e.backlog.length : e.recvBytes;
        lines.push(
          row(
            i,
            e.localAddr,
            e.localPort,
            e.remoteAddr,
            e.remotePort,
            TCP_STATES[e.state],
            tx,
            rx,
            e,
            '1 0000000000000000 100 0 0 10 0',
          ).padEnd(149),
        );
      });
      return `${lines.join('\n')}\n`;
    }
    case 'udp': {
      const lines = [`${HEADER} ref pointer drops`.padEnd(127)];
      st.udpSockets().forEach((e, i) => {
        lines.push(
          row(
            i,
            e.localAddr,
            e.localPort,
            e.remoteAddr,
            e.remotePort,
            e.connected ? 1 : 7,
            0,
            e.readable(),
            e,
            `2 0000000000000000 ${e.drops}`,
          ).padEnd(127),
        );
      });
      return `${lines.join('\n')}\n`;
    }
    case 'unix': {
      const lines = ['Num       RefCount Protocol Flags    Type St Inode Path'];
      for (const e of unixNamesFor(k).bound()) {
        const name = e.name;
        if (name === null) continue;
        const path =
          name[0] === 0
            ? `@${Buffer.from(name.subarray(1)).toString('latin1').replace(/\0/g, '@')}`
            : Buffer.from(name).toString('utf8');
        const flags = e.listening ? 0x10000 : 0;
        const state = e.peer !== null ? 3 : 1;
        const ino = socketOwners.get(e)?.ino ?? 0n;
        lines.push(
          `0000000000000000: 00000002 00000000 ${hex(flags, 8)} ${hex(e.type, 4)} ${hex(state, 2)} ${String(ino).padStart(5)} ${path}`,
        );
      }
      return `${lines.join('\n')}\n`;
    }
    case 'dev': {
      const s = st.stats;
      const n = (v: number, w: number): string => String(v).padStart(w);
      const side = `${n(s.ipOutBytes, 8)} ${n(s.ipOut, 7)}    0    0    0     0`;
      return (
        'Inter-|   Receive                                                |  Transmit\n' +
        ' face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n' +
        `    lo: ${side}          0         0 ${n(s.ipOutBytes, 8)} ${n(s.ipOut, 7)}    0    0    0     0       0          0\n`
      );
    }
    case 'route':
      return 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n';
    default:
      return null;
  }
}
