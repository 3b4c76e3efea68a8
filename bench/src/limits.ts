/**
 * What limits this box under a big load, read from /proc as measurements: each process's
 * open-file limit and the descriptors it holds, the ephemeral port range every loopback client
 * draws from, the kernel's accept-queue limits and its TCP counters (listen overflows, SYNs
 * dropped, resets). Linux only; on another system every figure is absent, never invented.
 */
import { readFileSync, readdirSync } from "node:fs";

export interface ProcessFds {
  /** `Max open files` of the process (`ulimit -n` as it sees it): soft, hard. */
  softLimit: number | null;
  hardLimit: number | null;
  /** Descriptors open now (entries of /proc/<pid>/fd). */
  open: number | null;
}

/** System-wide TCP state: counters only ever grow, so a scenario reports their deltas. */
export interface TcpCounters {
  /** TcpExt ListenOverflows: a SYN or ACK found the accept queue full. */
  listenOverflows: number;
  /** TcpExt ListenDrops: connection attempts dropped at a listening socket (any cause). */
  listenDrops: number;
  /** Tcp AttemptFails: connects that went to CLOSED from SYN-SENT/SYN-RECV. */
  attemptFails: number;
  /** Tcp EstabResets: established connections reset. */
  estabResets: number;
  /** TcpExt TCPTimeouts: retransmission timeouts (a SYN retried after 1 s is one). */
  timeouts: number;
  /** TcpExt SyncookiesSent: the SYN queue was full. */
  syncookiesSent: number;
}

export interface SocketStates {
  established: number;
  timeWait: number;
  synSent: number;
  other: number;
}

export interface BoxLimits {
  /** net.ipv4.ip_local_port_range: every client socket to one hub port needs its own port. */
  ephemeralPorts: { low: number; high: number; count: number } | null;
  /** net.core.somaxconn (caps a listen backlog) and net.ipv4.tcp_max_syn_backlog. */
  somaxconn: number | null;
  tcpMaxSynBacklog: number | null;
  syncookies: number | null;
}

function readNumber(path: string): number | null {
  try {
    const n = Number(readFileSync(path, "utf8").trim());
    return Number.isFinite(n) ? n : null;
  } catch {
    return null;
  }
}

export function boxLimits(): BoxLimits {
  let ephemeralPorts: BoxLimits["ephemeralPorts"] = null;
  try {
    const [low, high] = readFileSync("/proc/sys/net/ipv4/ip_local_port_range", "utf8")
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low !== undefined && high !== undefined) ephemeralPorts = { low, high, count: high - low + 1 };
  } catch {
    // not Linux
  }
  return {
    ephemeralPorts,
    somaxconn: readNumber("/proc/sys/net/core/somaxconn"),
    tcpMaxSynBacklog: readNumber("/proc/sys/net/ipv4/tcp_max_syn_backlog"),
    syncookies: readNumber("/proc/sys/net/ipv4/tcp_syncookies"),
  };
}

export function processFds(pid: number | undefined): ProcessFds {
  const none: ProcessFds = { softLimit: null, hardLimit: null, open: null };
  if (pid === undefined) return none;
  try {
    const line = /^Max open files\s+(\S+)\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/limits`, "utf8"));
    const limit = (v: string | undefined) => (v === undefined || v === "unlimited" ? null : Number(v));
    let open: number | null = null;
    try {
      open = readdirSync(`/proc/${pid}/fd`).length;
    } catch {
      // gone meanwhile
    }
    return { softLimit: limit(line?.[1]), hardLimit: limit(line?.[2]), open };
  } catch {
    return none;
  }
}

/** `Tcp:`/`TcpExt:` tables of /proc/net/snmp and /proc/net/netstat: a header line, then values. */
export function parseCounterTables(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  const lines = text.split("\n");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const names = (lines[i] ?? "").trim().split(/\s+/);
    const values = (lines[i + 1] ?? "").trim().split(/\s+/);
    const prefix = names[0] ?? "";
    if (prefix !== values[0]) continue;
    for (let k = 1; k < names.length; k++) out[`${prefix}${names[k]}`] = Number(values[k]);
  }
  return out;
}

export function tcpCounters(): TcpCounters | null {
  try {
    const c = {
      ...parseCounterTables(readFileSync("/proc/net/snmp", "utf8")),
      ...parseCounterTables(readFileSync("/proc/net/netstat", "utf8")),
    };
    return {
      listenOverflows: c["TcpExt:ListenOverflows"] ?? 0,
      listenDrops: c["TcpExt:ListenDrops"] ?? 0,
      attemptFails: c["Tcp:AttemptFails"] ?? 0,
      estabResets: c["Tcp:EstabResets"] ?? 0,
      timeouts: c["TcpExt:TCPTimeouts"] ?? 0,
      syncookiesSent: c["TcpExt:SyncookiesSent"] ?? 0,
    };
  } catch {
    return null;
  }
}

export function tcpDelta(after: TcpCounters | null, before: TcpCounters | null): TcpCounters | null {
  if (!after || !before) return null;
  const keys = Object.keys(after) as (keyof TcpCounters)[];
  return Object.fromEntries(keys.map((k) => [k, after[k] - before[k]])) as unknown as TcpCounters;
}

/** IPv4 TCP sockets by state (/proc/net/tcp, column `st`: 01 established, 02 SYN-SENT, 06 TIME-WAIT). */
export function socketStates(): SocketStates | null {
  try {
    const states: SocketStates = { established: 0, timeWait: 0, synSent: 0, other: 0 };
    const lines = readFileSync("/proc/net/tcp", "utf8").split("\n").slice(1);
    for (const line of lines) {
      const st = line.trim().split(/\s+/)[3];
      if (st === undefined) continue;
      if (st === "01") states.established++;
      else if (st === "06") states.timeWait++;
      else if (st === "02") states.synSent++;
      else states.other++;
    }
    return states;
  } catch {
    return null;
  }
}

/**
 * Seconds a process has waited on a run queue, ready but not running (/proc/<pid>/schedstat,
 * field 2, ns; summed over its threads would be exact, the main thread is what a Node event loop
 * waits in). Low CPU with a high wait is a starved process, not an idle one.
 */
export function runQueueWaitSeconds(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const wait = Number(readFileSync(`/proc/${pid}/schedstat`, "utf8").trim().split(/\s+/)[1]);
    return Number.isFinite(wait) ? wait / 1e9 : null;
  } catch {
    return null;
  }
}
