import { describe, expect, it } from "vitest";
import { parseRatePercent, parseSlugs } from "./rate";

describe("rate directives", () => {
  it.each([
    ["2", 20000],
    ["-2,5", -25000],
    ["+2.5 %", 25000],
    ["−1.2", -12000],
    ["0", 0],
  ])("%s %% is %s ppm", (text, ppm) => {
    expect(parseRatePercent(text)).toBe(ppm);
  });

  it.each(["", "fast", "12", "2..5"])("refuses %j", (text) => {
    expect(parseRatePercent(text)).toBeNull();
  });

  it("reads station lists the way the CLI writes them", () => {
    expect(parseSlugs("rfm-dakar, zik-fm;rfm-dakar  sud-fm")).toEqual(["rfm-dakar", "zik-fm", "sud-fm"]);
  });
});
