import { describe, expect, it } from "vitest";
import { HOUR, place, titlesDuring, windowAround } from "./timeline";

const day = ["2026-11-26T00:00:00Z", "2026-11-27T00:00:00Z"] as const;

describe("timeline geometry", () => {
  it("places a stretch as a share of the day", () => {
    const p = place("2026-11-26T06:00:00Z", "2026-11-26T12:00:00Z", ...day);
    expect(p?.left).toBeCloseTo(25);
    expect(p?.width).toBeCloseTo(25);
  });

  it("clips what overlaps midnight and drops what lies outside", () => {
    const p = place("2026-11-25T23:00:00Z", "2026-11-26T01:00:00Z", ...day);
    expect(p?.left).toBe(0);
    expect(p?.width).toBeCloseTo(100 / 24);
    expect(place("2026-11-25T10:00:00Z", "2026-11-25T11:00:00Z", ...day)).toBeNull();
  });

  it("keeps a 10-second stretch visible", () => {
    expect(place("2026-11-26T06:00:00Z", "2026-11-26T06:00:10Z", ...day)?.width).toBeGreaterThan(0.05);
  });

  it("finds the ICY titles on air during a play, an open title included", () => {
    const titles = [
      { start: "2026-11-26T06:00:00Z", end: "2026-11-26T06:03:35Z", title: "grazes the start" },
      { start: "2026-11-26T06:03:35Z", end: "2026-11-26T06:07:00Z", title: "during" },
      { start: "2026-11-26T06:07:00Z", end: null, title: "still on" },
    ];
    const now = Date.parse("2026-11-26T08:00:00Z");
    const found = titlesDuring(titles, "2026-11-26T06:03:30Z", "2026-11-26T06:08:00Z", now).map((t) => t.title);
    expect(found).toEqual(["during", "still on"]);
  });

  it("keeps a title that covers most of a short play", () => {
    const titles = [{ start: "2026-11-26T06:00:05Z", end: "2026-11-26T06:00:30Z", title: "jingle" }];
    expect(titlesDuring(titles, "2026-11-26T06:00:00Z", "2026-11-26T06:00:20Z")).toHaveLength(1);
  });
});

describe("zoom", () => {
  it("picks the window of the span that holds a time", () => {
    const d0 = Date.parse(day[0]);
    expect(windowAround(day[0], 6 * HOUR, d0 + 7.5 * HOUR)).toEqual({ from: d0 + 6 * HOUR, to: d0 + 12 * HOUR });
    expect(windowAround(day[0], HOUR, d0 + 3.3 * HOUR)).toEqual({ from: d0 + 3 * HOUR, to: d0 + 4 * HOUR });
    expect(windowAround(day[0], 24 * HOUR, d0 + 3 * HOUR)).toEqual({ from: d0, to: d0 + 24 * HOUR });
  });

  it("stays inside the day", () => {
    const d0 = Date.parse(day[0]);
    expect(windowAround(day[0], HOUR, d0 + 30 * HOUR)).toEqual({ from: d0 + 23 * HOUR, to: d0 + 24 * HOUR });
    expect(windowAround(day[0], HOUR, d0 - HOUR)).toEqual({ from: d0, to: d0 + HOUR });
  });
});
