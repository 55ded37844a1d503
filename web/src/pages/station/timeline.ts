// Geometry of a station's day: where each stretch sits on a 0–100 % axis.
import type { TimelineItem, TimelineKind } from "../../api/types";

export const LANES: { kinds: readonly TimelineKind[]; key: "audio" | "faults" }[] = [
  { kinds: ["play", "speech", "unknown"], key: "audio" },
  { kinds: ["outage", "silence"], key: "faults" },
];

export const KIND_COLOR: Record<TimelineKind, string> = {
  play: "#2f855a",
  speech: "#3182ce",
  unknown: "#d69e2e",
  silence: "#a0aec0",
  outage: "#c53030",
};

export interface Placed {
  left: number; // % of the day
  width: number; // % of the day, at least a hairline so short items stay visible
}

export function place(start: string, end: string, dayStart: string, dayEnd: string): Placed | null {
  const d0 = Date.parse(dayStart);
  const d1 = Date.parse(dayEnd);
  const s = Math.max(Date.parse(start), d0);
  const e = Math.min(Date.parse(end), d1);
  if (!(d1 > d0) || e <= s) return null;
  const left = ((s - d0) / (d1 - d0)) * 100;
  return { left, width: Math.max(((e - s) / (d1 - d0)) * 100, 0.08) };
}

/** The ICY titles that were on air during [start, end). */
export function titlesDuring<T extends { start: string; end: string | null }>(titles: readonly T[], start: string, end: string): T[] {
  const s = Date.parse(start);
  const e = Date.parse(end);
  return titles.filter((t) => Date.parse(t.start) < e && (t.end === null || Date.parse(t.end) > s));
}

export function byKind(items: readonly TimelineItem[], kinds: readonly TimelineKind[]): TimelineItem[] {
  return items.filter((i) => kinds.includes(i.kind));
}
