import { describe, expect, it } from "vitest";
import { buildUrl } from "./client";

describe("query strings", () => {
  it("repeats list keys the way the collector reads them", () => {
    expect(buildUrl("/api/v1/plays", { station: ["rfm", "zik-fm"], page: 2 })).toBe(
      "/api/v1/plays?station=rfm&station=zik-fm&page=2",
    );
  });

  it("leaves out empty filters", () => {
    expect(buildUrl("/api/v1/plays", { artist: "", label: null, recording: undefined })).toBe("/api/v1/plays");
  });

  it("encodes what a person types", () => {
    expect(buildUrl("/api/v1/catalog/recordings", { q: "N'Dour & co" })).toBe(
      "/api/v1/catalog/recordings?q=N%27Dour+%26+co",
    );
  });
});
