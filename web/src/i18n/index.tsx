// French by default, English on a switch. Every string a person reads comes from fr.ts/en.ts
// (i18n.test.ts checks both have the same keys and that components hold no literal text).
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { en } from "./en";
import * as f from "./format";
import { fr, type MessageKey } from "./fr";

export type { MessageKey } from "./fr";
export type Lang = f.Lang;
export type Vars = Record<string, string | number>;

const DICTIONARIES = { fr, en } as const;
const PLURALS = { fr: new Intl.PluralRules("fr"), en: new Intl.PluralRules("en") } as const;
const STORAGE_KEY = "sodav.lang";

/** Replace {name} placeholders; a numeric `count` that the language calls singular picks
 * `key_one` when it exists (French says "0 diffusion", English "0 plays"). */
export function translate(lang: Lang, key: MessageKey, vars: Vars = {}): string {
  const dict: Record<string, string> = DICTIONARIES[lang];
  let text = dict[key] ?? key;
  if (typeof vars.count === "number" && PLURALS[lang].select(vars.count) === "one") {
    text = dict[`${key}_one`] ?? text;
  }
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = vars[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? f.formatNumber(value, lang) : value;
  });
}

interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  zone: string;
  setZone: (zone: string) => void;
  t: (key: MessageKey, vars?: Vars) => string;
}

const Context = createContext<I18n | null>(null);

function initialLang(): Lang {
  const saved = typeof localStorage === "undefined" ? null : localStorage.getItem(STORAGE_KEY);
  return saved === "en" ? "en" : "fr";
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(initialLang);
  const [zone, setZone] = useState(f.DEFAULT_ZONE);
  const setLang = useCallback((next: Lang) => {
    localStorage.setItem(STORAGE_KEY, next);
    setLangState(next);
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang; // screen readers pronounce the page in its language
  }, [lang]);
  const value = useMemo<I18n>(
    () => ({ lang, setLang, zone, setZone, t: (key, vars) => translate(lang, key, vars) }),
    [lang, setLang, zone],
  );
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(Context);
  if (value === null) throw new Error("useI18n outside I18nProvider");
  return value;
}

export function useT(): I18n["t"] {
  return useI18n().t;
}

/** Formatters bound to the current language and the collector's time zone. */
export function useFormat() {
  const { lang, zone } = useI18n();
  return useMemo(
    () => ({
      lang,
      zone,
      dateTime: (v: string | Date) => f.formatDateTime(v, lang, zone),
      date: (v: string | Date) => f.formatDate(v, lang, zone),
      /** A calendar day the API wrote as 2026-11-26 (already local: no zone shift). */
      day: (v: string) => f.formatDate(`${v}T00:00:00Z`, lang, "UTC"),
      time: (v: string | Date) => f.formatTime(v, lang, zone),
      hourMinute: (v: string | Date) => f.formatHourMinute(v, lang, zone),
      since: (v: string | Date, now: Date) => f.formatSince(v, now, lang),
      duration: f.formatDuration,
      number: (v: number, digits = 0) => f.formatNumber(v, lang, digits),
      percent: (v: number, digits = 1) => f.formatPercent(v, lang, digits),
      dbfs: (v: number | null | undefined) => f.formatDbfs(v, lang),
      rate: (ppm: number) => f.formatRatePpm(ppm, lang),
      today: () => f.dayInZone(new Date(), zone),
      month: () => f.monthInZone(new Date(), zone),
    }),
    [lang, zone],
  );
}
