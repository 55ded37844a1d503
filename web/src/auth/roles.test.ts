import { describe, expect, it } from "vitest";
import { can, isRole, type Permission } from "./roles";

const ANALYST_ONLY_READS: Permission[] = ["stations.read", "plays.read", "reports.read", "catalog.read"];

describe("role-based visibility", () => {
  it("lets an analyst read, flag plays and regenerate reports", () => {
    for (const p of [...ANALYST_ONLY_READS, "plays.flag", "reports.generate", "plays.excerpt"] as Permission[]) {
      expect(can("analyst", p), p).toBe(true);
    }
  });

  it("keeps catalog writes and the fleet from an analyst", () => {
    for (const p of ["catalog.write", "fleet.read", "fleet.write"] as Permission[]) {
      expect(can("analyst", p), p).toBe(false);
    }
  });

  it("lets an admin do everything an analyst may, and more", () => {
    for (const p of [...ANALYST_ONLY_READS, "plays.flag", "catalog.write", "fleet.write"] as Permission[]) {
      expect(can("admin", p), p).toBe(true);
    }
  });

  it("shows nothing to someone not signed in", () => {
    expect(can(null, "stations.read")).toBe(false);
    expect(can(undefined, "plays.read")).toBe(false);
  });

  it("recognises only the collector's roles", () => {
    expect(isRole("admin")).toBe(true);
    expect(isRole("analyst")).toBe(true);
    expect(isRole("ops")).toBe(false);
    expect(isRole(undefined)).toBe(false);
  });
});
