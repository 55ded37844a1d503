/** "-2,5" or "+2.5 %" as −25000 ppm; null when it is not a rate within ±10 %. */
export function parseRatePercent(text: string): number | null {
  const cleaned = text.replace(/[%\s]/g, "").replace(",", ".").replace("−", "-");
  if (!/^[+-]?\d+(\.\d+)?$/.test(cleaned)) return null;
  const pct = Number(cleaned);
  if (Math.abs(pct) > 10) return null;
  return Math.round(pct * 10) * 1000; // the collector keeps rates to 0.1 %
}

/** "rfm-dakar, zik-fm" as ["rfm-dakar", "zik-fm"]. */
export function parseSlugs(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
}
