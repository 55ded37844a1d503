import { describe, expect, it } from "vitest";
import { place, titlesDuring } from "./timeline";

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
      { start: "2026-11-26T06:00:00Z", end: "2026-11-26T06:03:00Z", title: "before" },
      { start: "2026-11-26T06:03:00Z", end: "2026-11-26T06:07:00Z", title: "during" },
      { start: "2026-11-26T06:07:00Z", end: null, title: "still on" },
    ];
    const found = titlesDuring(titles, "2026-11-26T06:03:30Z", "2026-11-26T06:08:00Z").map((t) => t.title);
    expect(found).toEqual(["during", "still on"]);
  });
});
