import { describe, expect, it } from "vitest";
import { mergePlay, mergeStatus } from "./events";
import type { Play, StationStatus } from "./types";

const base: StationStatus = {
  station: "rfm",
  name: "RFM",
  state: "online",
  since: "2026-11-26T07:00:00Z",
  detail: null,
  level_dbfs: -14,
  last_heartbeat_at: "2026-11-26T07:01:00Z",
  last_play: {
    id: 1,
    title: "A",
    artist: "X",
    start: "2026-11-26T06:50:00Z",
    end: "2026-11-26T06:54:00Z",
    status: "final",
  },
};

const play = (id: number, start: string): Play => ({
  id,
  station: "rfm",
  start,
  end: start,
  start_utc: start,
  end_utc: start,
  duration: 1,
  title: `T${id}`,
  artist: "Y",
  isrc: null,
  label: null,
  composer: null,
  external_id: `E${id}`,
  status: "open",
  final: false,
  confidence: 0.9,
});

describe("live station events", () => {
  it("replaces a station's state and keeps its last play when the event has none", () => {
    const event: StationStatus = { ...base, state: "silent", last_play: undefined };
    const merged = mergeStatus([base], event);
    expect(merged).toHaveLength(1);
    expect(merged[0]?.state).toBe("silent");
    expect(merged[0]?.last_play?.id).toBe(1);
  });

  it("adds a station it did not know", () => {
    expect(mergeStatus([base], { ...base, station: "zik" }).map((s) => s.station)).toEqual(["rfm", "zik"]);
  });

  it("shows a newer play as the last play, not an older one", () => {
    expect(mergePlay([base], play(2, "2026-11-26T07:00:00Z"))?.[0]?.last_play?.id).toBe(2);
    expect(mergePlay([base], play(3, "2026-11-26T06:00:00Z"))?.[0]?.last_play?.id).toBe(1);
  });
});
