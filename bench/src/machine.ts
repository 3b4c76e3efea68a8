/** What every benchmark record says about the machine it ran on. */
import { cpus, loadavg, release, totalmem } from "node:os";
import { round } from "./stats.js";

export interface Machine {
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** 1, 5 and 15 min load averages when the run ended: other work on the box skews results. */
  loadAverage: number[];
}

export function describeMachine(): Machine {
  const cpu = cpus();
  return {
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? "unknown",
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    kernel: release(),
    loadAverage: loadavg().map(round),
  };
}
