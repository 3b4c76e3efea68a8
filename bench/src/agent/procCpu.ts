/** CPU time of a process tree (a process and every descendant), read from /proc. Linux only. */
import { readdirSync, readFileSync } from "node:fs";

/** USER_HZ: the unit of utime/stime in /proc/<pid>/stat (`getconf CLK_TCK`; 100 on Linux). */
const TICKS_PER_SECOND = 100;

interface ProcStat {
  ppid: number;
  /** utime + stime, in seconds. */
  cpuSeconds: number;
}

function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined; // Gone between listing and reading.
  }
  // The command name (field 2) may contain spaces: count fields from after its closing paren.
  const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
  // fields[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return {
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
  };
}

/** CPU seconds used so far by `root` itself and by its descendants, per pid. */
export interface TreeSample {
  root: number;
  descendants: Map<number, number>;
}

export function sampleTree(rootPid: number): TreeSample {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const stat = readStat(pid);
    if (stat) stats.set(pid, stat);
  }
  const descendants = new Map<number, number>();
  const inTree = new Set([rootPid]);
  // Parents usually have lower pids, but not always (pid wrap): repeat until nothing is added.
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, stat] of stats) {
      if (!inTree.has(pid) && inTree.has(stat.ppid)) {
        inTree.add(pid);
        descendants.set(pid, stat.cpuSeconds);
        grew = true;
      }
    }
  }
  return { root: stats.get(rootPid)?.cpuSeconds ?? 0, descendants };
}

/** Pids of `rootPid`'s descendants right now (to reap orphans after a hard kill). */
export function descendantPids(rootPid: number): number[] {
  return [...sampleTree(rootPid).descendants.keys()];
}

/** CPU used between two samples, as % of one core over `seconds`: the root and its descendants. */
export function cpuBetween(
  before: TreeSample,
  after: TreeSample,
  seconds: number,
): { self: number; children: number } {
  let children = 0;
  for (const [pid, cpu] of after.descendants) children += cpu - (before.descendants.get(pid) ?? 0);
  const pct = (cpuSeconds: number) => (100 * cpuSeconds) / seconds;
  return { self: pct(after.root - before.root), children: pct(children) };
}
