import type { StationState, StationStatus } from "../../api/types";

/** Most urgent first: a stream down needs a technician now, an online station nothing. */
export const URGENCY: Record<StationState, number> = {
  stream_down: 0,
  agent_offline: 1,
  silent: 2,
  never_seen: 3,
  online: 4,
};

export const STATE_COLOR: Record<StationState, string> = {
  stream_down: "red",
  agent_offline: "purple",
  silent: "orange",
  never_seen: "gray",
  online: "green",
};

export function isProblem(s: StationStatus): boolean {
  return s.state !== "online";
}

/** Problems first (most urgent state, then the longest-lasting), then by name. */
export function byUrgency(a: StationStatus, b: StationStatus): number {
  const rank = URGENCY[a.state] - URGENCY[b.state];
  if (rank !== 0) return rank;
  if (a.state !== "online" && a.since !== b.since) {
    if (a.since === null) return 1;
    if (b.since === null) return -1;
    return a.since < b.since ? -1 : 1;
  }
  return a.name.localeCompare(b.name);
}

export function countByState(list: readonly StationStatus[]): Record<StationState, number> {
  const counts: Record<StationState, number> = {
    stream_down: 0,
    agent_offline: 0,
    silent: 0,
    never_seen: 0,
    online: 0,
  };
  for (const s of list) counts[s.state] += 1;
  return counts;
}
