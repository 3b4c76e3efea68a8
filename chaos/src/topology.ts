/**
 * Who is where in a chaos run: peer groups 0..G-1, each with S streamers and P players. The
 * players of group g watch the streamers of group g+1 (so a fault on one group never takes both
 * ends of a session at once), half of them through the streamer's own node, half across nodes.
 */
import type { NodeName } from "./history.js";

export interface Topology {
  groups: number;
  streamersPerGroup: number;
  playersPerGroup: number;
}

export const otherNode = (node: NodeName): NodeName => (node === "a" ? "b" : "a");

export function streamerIdOf(group: number, index: number): string {
  return `g${group}s${index}`;
}

/** Streamers alternate between the nodes. */
export function streamerNode(index: number): NodeName {
  return index % 2 === 0 ? "a" : "b";
}

/** The group and node of a streamer, from its id (undefined for ids not of this run). */
export function streamerHome(streamerId: string): { group: number; node: NodeName } | undefined {
  const match = /^g(\d+)s(\d+)$/.exec(streamerId);
  if (!match) return undefined;
  return { group: Number(match[1]), node: streamerNode(Number(match[2])) };
}

/** The streamer player `index` of `group` watches, and the node it connects to. */
export function playerPlan(
  topology: Topology,
  group: number,
  index: number,
): { streamerId: string; node: NodeName } {
  const streamer = index % topology.streamersPerGroup;
  const home = streamerNode(streamer);
  return {
    streamerId: streamerIdOf((group + 1) % topology.groups, streamer),
    node: Math.floor(index / topology.streamersPerGroup) % 2 === 0 ? home : otherNode(home),
  };
}
