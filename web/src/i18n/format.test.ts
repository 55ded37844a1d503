import { describe, expect, it } from "vitest";
import {
  formatSince,
  dayInZone,
  formatDate,
  formatDateTime,
  formatDuration,
  formatRatePpm,
  formatTime,
  monthInZone,
} from "./format";

describe("times in Africa/Dakar", () => {
  it("shows a UTC instant as Dakar wall time (UTC+0, no summer time)", () => {
    expect(formatTime("2026-11-26T07:02:21Z", "fr")).toBe("07:02:21");
    expect(formatTime("2026-07-01T23:59:59Z", "en")).toBe("23:59:59");
  });

  it("converts an instant written with another offset", () => {
    // 09:30 in Paris summer time is 07:30 in Dakar
    expect(formatTime("2026-07-01T09:30:00+02:00", "fr")).toBe("07:30:00");
    expect(formatDateTime("2026-01-01T00:30:00+01:00", "fr")).toBe("31/12/2025 23:30:00");
  });

  it("does not depend on the browser's zone", () => {
    const instant = "2026-03-29T01:30:00Z"; // a summer-time change in Europe
    expect(formatTime(instant, "fr", "Africa/Dakar")).toBe("01:30:00");
    expect(formatTime(instant, "fr", "Europe/Paris")).toBe("03:30:00");
  });

  it("writes dates the local way in each language", () => {
    expect(formatDate("2026-11-26T07:00:00Z", "fr")).toBe("26/11/2026");
    expect(formatDate("2026-11-26T07:00:00Z", "en")).toBe("26/11/2026");
  });

  it("gives the day and month the API's periods name", () => {
    const late = new Date("2026-11-30T23:59:00Z");
    expect(dayInZone(late)).toBe("2026-11-30");
    expect(monthInZone(late)).toBe("2026-11");
    expect(dayInZone(late, "Asia/Tokyo")).toBe("2026-12-01");
  });
});

describe("durations as h:mm:ss", () => {
  it.each([
    [0, "0:00:00"],
    [59.4, "0:00:59"],
    [59.6, "0:01:00"],
    [205, "0:03:25"],
    [3600, "1:00:00"],
    [93600, "26:00:00"],
    [-3, "0:00:00"],
    [Number.NaN, "0:00:00"],
  ])("%s s is %s", (seconds, text) => {
    expect(formatDuration(seconds)).toBe(text);
  });
});

describe("playback rate", () => {
  it("shows ppm as a signed percentage", () => {
    expect(formatRatePpm(20000, "en")).toBe("+2.0 %");
    expect(formatRatePpm(-25000, "fr")).toBe("−2,5 %");
    expect(formatRatePpm(0, "fr")).toBe("0,0 %");
  });
});

describe("relative times", () => {
  const now = new Date("2026-11-26T07:00:00Z");
  it("counts back in the largest whole unit", () => {
    expect(formatSince("2026-11-26T06:55:00Z", now, "en")).toBe("5 min ago");
    expect(formatSince("2026-11-26T05:00:00Z", now, "fr")).toMatch(/^il y a 2\sh$/);
  });
  it("shows news that arrived live after the page's last tick as now", () => {
    expect(formatSince("2026-11-26T07:00:10Z", now, "en")).toBe("now");
    expect(formatSince("2026-11-26T07:00:10Z", now, "fr")).toBe("maintenant");
  });
});
