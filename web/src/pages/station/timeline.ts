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

/** The ICY titles on air for a good part of [start, end): at least half the stretch or 15 s.
 * Stations change titles a few seconds off the audio; a title that only grazes the stretch
 * is the one before or after. A title without end is still on air at `now`. */
export function titlesDuring<T extends { start: string; end: string | null }>(
  titles: readonly T[],
  start: string,
  end: string,
  now = Date.now(),
): T[] {
  const s = Date.parse(start);
  const e = Date.parse(end);
  const needed = Math.min(15_000, (e - s) / 2);
  return titles.filter((t) => {
    const overlap = Math.min(e, t.end === null ? now : Date.parse(t.end)) - Math.max(s, Date.parse(t.start));
    return overlap > 0 && overlap >= needed;
  });
}

export function byKind(items: readonly TimelineItem[], kinds: readonly TimelineKind[]): TimelineItem[] {
  return items.filter((i) => kinds.includes(i.kind));
}

export const HOUR = 3_600_000;
export const SPANS = [24 * HOUR, 6 * HOUR, HOUR] as const;

/** The window of `span` ms that starts on a multiple of `span` after `dayStart` and holds `at`. */
export function windowAround(dayStart: string, span: number, at: number): { from: number; to: number } {
  const d0 = Date.parse(dayStart);
  const k = Math.max(0, Math.min(Math.floor((at - d0) / span), Math.round((24 * HOUR) / span) - 1));
  return { from: d0 + k * span, to: d0 + (k + 1) * span };
}
