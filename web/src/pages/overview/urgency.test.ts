import { describe, expect, it } from "vitest";
import type { StationStatus } from "../../api/types";
import { byUrgency, countByState } from "./urgency";

const s = (station: string, state: StationStatus["state"], since: string | null): StationStatus => ({
  station,
  name: station.toUpperCase(),
  state,
  since,
  detail: null,
  level_dbfs: null,
  last_heartbeat_at: null,
});

describe("overview order", () => {
  it("puts problems first, the oldest problem of a kind first, then online stations by name", () => {
    const list = [
      s("b", "online", "2026-01-01T00:00:00Z"),
      s("a", "online", "2026-01-02T00:00:00Z"),
      s("silent", "silent", "2026-01-01T10:00:00Z"),
      s("down-new", "stream_down", "2026-01-01T09:00:00Z"),
      s("down-old", "stream_down", "2026-01-01T08:00:00Z"),
      s("never", "never_seen", null),
      s("box", "agent_offline", "2026-01-01T00:00:00Z"),
    ];
    expect([...list].sort(byUrgency).map((x) => x.station)).toEqual([
      "down-old",
      "down-new",
      "box",
      "silent",
      "never",
      "a",
      "b",
    ]);
    expect(countByState(list)).toEqual({ stream_down: 2, agent_offline: 1, silent: 1, never_seen: 1, online: 2 });
  });
});
