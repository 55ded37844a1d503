// The report tables' columns, as the collector names them (collector/reports/service.py).
import type { AirtimeBy } from "../../api/types";
import type { ColumnDef } from "../../components/DataTable";

export const PLAYLIST_COLUMNS: ColumnDef[] = [
  { key: "date", label: "col.date", kind: "date" },
  { key: "start", label: "col.start", kind: "time" },
  { key: "end", label: "col.end", kind: "time" },
  { key: "duration", label: "col.duration", kind: "seconds" },
  { key: "title", label: "col.title" },
  { key: "artist", label: "col.artist" },
  { key: "isrc", label: "col.isrc" },
  { key: "label", label: "col.label" },
  { key: "composer", label: "col.composer" },
];

const SUMS: ColumnDef[] = [
  { key: "plays", label: "col.plays", kind: "int" },
  { key: "seconds", label: "col.airtime", kind: "seconds" },
];

export const AIRTIME_COLUMNS: Record<AirtimeBy, ColumnDef[]> = {
  recording: [
    { key: "external_id", label: "col.externalId" },
    { key: "title", label: "col.title" },
    { key: "artist", label: "col.artist" },
    { key: "isrc", label: "col.isrc" },
    { key: "label", label: "col.label" },
    ...SUMS,
    { key: "stations", label: "col.stations", kind: "int" },
  ],
  artist: [
    { key: "artist", label: "col.artist" },
    ...SUMS,
    { key: "stations", label: "col.stations", kind: "int" },
    { key: "recordings", label: "col.recordings", kind: "int" },
  ],
  label: [
    { key: "label", label: "col.label" },
    ...SUMS,
    { key: "stations", label: "col.stations", kind: "int" },
    { key: "recordings", label: "col.recordings", kind: "int" },
  ],
  station: [
    { key: "station_name", label: "col.station" },
    { key: "station", label: "col.slug" },
    ...SUMS,
    { key: "recordings", label: "col.recordings", kind: "int" },
  ],
  recording_station: [
    { key: "external_id", label: "col.externalId" },
    { key: "title", label: "col.title" },
    { key: "artist", label: "col.artist" },
    { key: "station", label: "col.station" },
    ...SUMS,
  ],
};

export const ACTIVITY_COLUMNS: ColumnDef[] = [
  { key: "station_name", label: "col.station" },
  { key: "period_hours", label: "col.periodHours", kind: "hours" },
  { key: "monitored_hours", label: "col.monitoredHours", kind: "hours" },
  { key: "monitored_share", label: "col.monitoredShare", kind: "percent" },
  { key: "outages", label: "col.outages", kind: "int" },
  { key: "outage_hours", label: "col.outageHours", kind: "hours" },
  { key: "silences", label: "col.silences", kind: "int" },
  { key: "silence_hours", label: "col.silenceHours", kind: "hours" },
];

export const UNIDENTIFIED_COLUMNS: ColumnDef[] = [
  { key: "station_name", label: "col.station" },
  { key: "segments", label: "col.segments", kind: "int" },
  { key: "unidentified_hours", label: "col.unidentifiedHours", kind: "hours" },
];

export const STRETCH_COLUMNS: ColumnDef[] = [
  { key: "station", label: "col.station" },
  { key: "date", label: "col.date", kind: "date" },
  { key: "start", label: "col.start", kind: "time" },
  { key: "end", label: "col.end", kind: "time" },
  { key: "duration", label: "col.duration", kind: "seconds" },
  { key: "segments", label: "col.segments", kind: "int" },
  { key: "level_dbfs", label: "col.level", kind: "dbfs" },
];

/** What a bar of the airtime chart is called. */
export function barLabel(by: AirtimeBy, row: Record<string, string | number | null>, none: string): string {
  const text = (key: string) => (row[key] == null || row[key] === "" ? none : String(row[key]));
  if (by === "recording" || by === "recording_station") {
    const base = `${text("title")} — ${text("artist")}`;
    return by === "recording" ? base : `${base} (${text("station")})`;
  }
  if (by === "station") return text("station_name");
  return text(by);
}
