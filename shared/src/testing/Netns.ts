/**
 * A network namespace joined to the host by a veth pair, for faults that need a real network
 * between the agent and the hub: a partition (blackhole qdiscs on both ends of the link) and
 * random packet loss (nftables `numgen` rules on both ingress sides). Needs root, `ip`, `tc`
 * and `nft` (scripts/setup.mjs installs them for `--browser`).
 *
 * The namespace side is named `eth-*` because werift gathers no ICE candidate on `veth*`
 * interfaces. Deleting the namespace destroys the pair, its qdiscs and the namespace's nft
 * table; the host's nft table is deleted by name. `destroy()` does both, never throws, and is
 * also run before creating, so a crashed earlier run leaves nothing that breaks the next one.
 * Used by the Playwright fault tests (e2e/tests/support/netns.ts adds the agent) and `pnpm chaos`.
 */
import { execFileSync } from "node:child_process";

function run(argv: string[], input?: string): void {
  execFileSync(argv[0] ?? "", argv.slice(1), {
    input,
    stdio: ["pipe", "ignore", "pipe"],
    timeout: 10_000,
  });
}

function tryRun(argv: string[]): void {
  try {
    run(argv);
  } catch {
    // Already gone.
  }
}

/** Whether this machine can run the namespace tests (root, and the tools present). */
export function canUseNetns(): boolean {
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return false;
  try {
    for (const tool of [
      ["ip", "-V"],
      ["tc", "-V"],
      ["nft", "--version"],
    ])
      run(tool);
    return true;
  } catch {
    return false;
  }
}

export class Netns {
  /** Host side of the link, e.g. `10.213.77.1`: the hub listens here. */
  readonly hostAddress: string;
  /** Namespace side of the link: the agent's only address besides loopback. */
  readonly nsAddress: string;
  readonly hostIf: string;
  readonly nsIf: string;

  /**
   * `index` (0-63) keeps concurrent or leftover namespaces apart; so does `nftTable`, the nft
   * table (host and namespace side) that holds the loss rules.
   */
  constructor(
    readonly name: string,
    index: number,
    readonly nftTable = "heartline_faults",
  ) {
    this.hostIf = `hl${index}`;
    this.nsIf = `eth-hl${index}`;
    this.hostAddress = `10.213.77.${index * 4 + 1}`;
    this.nsAddress = `10.213.77.${index * 4 + 2}`;
  }

  create(): this {
    this.destroy();
    run(["ip", "netns", "add", this.name]);
    run(["ip", "link", "add", this.hostIf, "type", "veth", "peer", "name", this.nsIf, "netns", this.name]);
    run(["ip", "addr", "add", `${this.hostAddress}/30`, "dev", this.hostIf]);
    run(["ip", "link", "set", this.hostIf, "up"]);
    run(["ip", "-n", this.name, "addr", "add", `${this.nsAddress}/30`, "dev", this.nsIf]);
    run(["ip", "-n", this.name, "link", "set", this.nsIf, "up"]);
    // ffmpeg hands the agent its RTP on 127.0.0.1 inside the namespace.
    run(["ip", "-n", this.name, "link", "set", "lo", "up"]);
    return this;
  }

  /**
   * Every packet on the link vanishes, both ways, silently (no error reaches a sender, no RST,
   * no ICMP): what a pulled cable between two switches looks like to both programs.
   */
  partition(): void {
    run(["tc", "qdisc", "add", "dev", this.hostIf, "root", "blackhole"]);
    run(["ip", "netns", "exec", this.name, "tc", "qdisc", "add", "dev", this.nsIf, "root", "blackhole"]);
  }

  heal(): void {
    tryRun(["tc", "qdisc", "del", "dev", this.hostIf, "root"]);
    tryRun(["ip", "netns", "exec", this.name, "tc", "qdisc", "del", "dev", this.nsIf, "root"]);
  }

  /**
   * Drops `percent` % of the packets arriving on each end of the link, at random (each
   * direction on its own). Dropping at ingress keeps it silent: a drop in an output hook would
   * hand the sender an EPERM, which real loss never does.
   */
  loss(percent: number): void {
    const rules = (iface: string): string =>
      `table inet ${this.nftTable} {\n` +
      `  chain input {\n` +
      `    type filter hook input priority -10; policy accept;\n` +
      `    iifname "${iface}" numgen random mod 100 < ${percent} counter drop\n` +
      `  }\n` +
      `}\n`;
    run(["nft", "-f", "-"], rules(this.hostIf));
    run(["ip", "netns", "exec", this.name, "nft", "-f", "-"], rules(this.nsIf));
  }

  /** Removes the loss rules (both ends); idempotent. */
  stopLoss(): void {
    tryRun(["nft", "delete", "table", "inet", this.nftTable]);
    tryRun(["ip", "netns", "exec", this.name, "nft", "delete", "table", "inet", this.nftTable]);
  }

  /** Packets the loss rules dropped so far, host side and namespace side. */
  dropped(): { host: number; ns: number } {
    const count = (argv: string[]): number => {
      const out = execFileSync(argv[0] ?? "", argv.slice(1), { encoding: "utf8", timeout: 10_000 });
      const match = /counter packets (\d+)/.exec(out);
      return match ? Number(match[1]) : 0;
    };
    return {
      host: count(["nft", "list", "table", "inet", this.nftTable]),
      ns: count(["ip", "netns", "exec", this.name, "nft", "list", "table", "inet", this.nftTable]),
    };
  }

  /** Removes everything this namespace added to the machine; idempotent, never throws. */
  destroy(): void {
    tryRun(["nft", "delete", "table", "inet", this.nftTable]);
    tryRun(["ip", "netns", "del", this.name]);
    // Normally gone with the namespace (a veth pair dies with either end).
    tryRun(["ip", "link", "del", this.hostIf]);
  }

  /**
   * `argv` as a command run inside the namespace (`ip netns exec` execs it, so a child spawned
   * from this has the command's own pid, and signals reach it).
   */
  command(argv: readonly string[]): string[] {
    return ["ip", "netns", "exec", this.name, ...argv];
  }
}
