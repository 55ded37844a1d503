// Formatting of times, durations and numbers for people. Times are shown in the society's
// zone (the collector's `timezone` setting, Africa/Dakar by default), whatever the browser's.

export const DEFAULT_ZONE = "Africa/Dakar";
export type Lang = "fr" | "en";

const LOCALES: Record<Lang, string> = { fr: "fr-SN", en: "en-GB" };
// Intl formatters are costly to build: one per language, zone and options (300 stations)
const cache = new Map<string, Intl.DateTimeFormat>();
const relative: Partial<Record<Lang, Intl.RelativeTimeFormat>> = {};
const numbers = new Map<string, Intl.NumberFormat>();

function fmt(lang: Lang, zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${lang}|${zone}|${JSON.stringify(options)}`;
  let f = cache.get(key);
  if (f === undefined) {
    f = new Intl.DateTimeFormat(LOCALES[lang], { ...options, timeZone: zone, hourCycle: "h23" });
    cache.set(key, f);
  }
  return f;
}

function toDate(value: string | Date): Date {
  return typeof value === "string" ? new Date(value) : value;
}

/** 26/11/2026 07:02:21 in the zone, whatever the offset written in `value`. */
export function formatDateTime(value: string | Date, lang: Lang, zone = DEFAULT_ZONE): string {
  return fmt(lang, zone, {
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  }).format(toDate(value));
}

/** 07:02:21 in the zone. */
export function formatTime(value: string | Date, lang: Lang, zone = DEFAULT_ZONE): string {
  return fmt(lang, zone, { hour: "2-digit", minute: "2-digit", second: "2-digit" }).format(toDate(value));
}

/** 07:02 in the zone (axis ticks). */
export function formatHourMinute(value: string | Date, lang: Lang, zone = DEFAULT_ZONE): string {
  return fmt(lang, zone, { hour: "2-digit", minute: "2-digit" }).format(toDate(value));
}

/** 26/11/2026 in the zone. */
export function formatDate(value: string | Date, lang: Lang, zone = DEFAULT_ZONE): string {
  return fmt(lang, zone, { year: "numeric", month: "2-digit", day: "2-digit" }).format(toDate(value));
}

/** The calendar day of `at` in the zone, as the API's period `2026-11-26`. */
export function dayInZone(at: Date, zone = DEFAULT_ZONE): string {
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: zone,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
  }).formatToParts(at);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return `${get("year")}-${get("month")}-${get("day")}`;
}

/** The month of `at` in the zone, as the API's period `2026-11`. */
export function monthInZone(at: Date, zone = DEFAULT_ZONE): string {
  return dayInZone(at, zone).slice(0, 7);
}

/** Seconds as h:mm:ss (0:03:25; 26:00:00 past a day; negative and NaN as 0:00:00). */
export function formatDuration(seconds: number): string {
  const total = Number.isFinite(seconds) && seconds > 0 ? Math.round(seconds) : 0;
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}

/** "il y a 5 min" / "5 min ago": the largest whole unit between `value` and `now`. A time a little
 * after `now` is news that arrived live since the page's clock last ticked (useNow): "now". */
export function formatSince(value: string | Date, now: Date, lang: Lang): string {
  let seconds = Math.round((toDate(value).getTime() - now.getTime()) / 1000);
  if (seconds > 0 && seconds <= 120) seconds = 0;
  const rtf = (relative[lang] ??= new Intl.RelativeTimeFormat(LOCALES[lang], { numeric: "auto", style: "short" }));
  const abs = Math.abs(seconds);
  if (abs < 60) return rtf.format(seconds, "second");
  if (abs < 3600) return rtf.format(Math.trunc(seconds / 60), "minute");
  if (abs < 86400) return rtf.format(Math.trunc(seconds / 3600), "hour");
  return rtf.format(Math.trunc(seconds / 86400), "day");
}

export function formatNumber(value: number, lang: Lang, digits = 0): string {
  const key = `${lang}|${digits}`;
  let f = numbers.get(key);
  if (f === undefined) {
    f = new Intl.NumberFormat(LOCALES[lang], { minimumFractionDigits: digits, maximumFractionDigits: digits });
    numbers.set(key, f);
  }
  return f.format(value);
}

/** −18.5 dBFS, or an empty string when unknown. */
export function formatDbfs(value: number | null | undefined, lang: Lang): string {
  return value == null ? "" : `${formatNumber(value, lang, 1)} dBFS`;
}

/** A play's playback rate: +2.0 % from 20000 ppm. */
export function formatRatePpm(ppm: number, lang: Lang): string {
  const pct = ppm / 10000;
  const sign = pct > 0 ? "+" : pct < 0 ? "−" : "";
  return `${sign}${formatNumber(Math.abs(pct), lang, 1)} %`;
}

export function formatPercent(value: number, lang: Lang, digits = 1): string {
  return `${formatNumber(value, lang, digits)} %`;
}
