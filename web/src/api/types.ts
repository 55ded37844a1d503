// Shapes of the collector's answers. Existing endpoints: docs/ops/api.md, docs/analyst/reports.md;
// endpoints marked "contract" are defined in web/API-CONTRACT.md for phase 2.

import type { Role } from "../auth/roles";

// ---- people ----------------------------------------------------------------------------------

/** contract: GET /api/v1/users/me */
export interface Me {
  name: string;
  role: Role;
  timezone: string;
  version: string;
}

// ---- stations --------------------------------------------------------------------------------

export type StationState = "online" | "silent" | "stream_down" | "agent_offline" | "never_seen";

/** contract (additive field of /stations/status and of the `station_status` event) */
export interface LastPlay {
  id: number;
  title: string;
  artist: string;
  start: string;
  end: string;
  status: PlayStatus;
}

/** GET /api/v1/stations/status (list) */
export interface StationStatus {
  station: string;
  name: string;
  state: StationState;
  since: string | null;
  detail: string | null;
  level_dbfs: number | null;
  last_heartbeat_at: string | null;
  last_play?: LastPlay | null;
}

export type TimelineKind = "play" | "speech" | "unknown" | "silence" | "outage";

export interface TimelineItem {
  kind: TimelineKind;
  start: string;
  end: string;
  play_id?: number | null;
  title?: string | null;
  artist?: string | null;
  reason?: string | null;
}

export interface IcyTitle {
  start: string;
  end: string | null;
  title: string;
}

/** contract: GET /api/v1/stations/{slug}/timeline?date= */
export interface Timeline {
  station: string;
  name: string;
  date: string;
  timezone: string;
  start: string;
  end: string;
  monitored_seconds: number;
  monitored_share: number;
  items: TimelineItem[];
  titles: IcyTitle[];
}

// ---- plays -----------------------------------------------------------------------------------

export type PlayStatus = "open" | "final";

/** contract: a reviewer's false-positive mark */
export interface PlayFlag {
  reason: string;
  by: string;
  at: string;
}

/** GET /api/v1/plays items (flag: contract, additive) */
export interface Play {
  id: number;
  station: string;
  start: string;
  end: string;
  start_utc: string;
  end_utc: string;
  duration: number;
  title: string;
  artist: string;
  isrc: string | null;
  label: string | null;
  composer: string | null;
  external_id: string;
  status: PlayStatus;
  final: boolean;
  confidence: number;
  flag?: PlayFlag | null;
}

export interface PlayPage {
  timezone: string;
  page: number;
  page_size: number;
  total: number;
  items: Play[];
}

export interface EvidenceSegment {
  id: number;
  start: string;
  duration: number;
  level_dbfs: number | null;
  offset: number;
  score: number;
  rate_ppm: number;
}

export type ExcerptState = "none" | "requested" | "available" | "unavailable";

export interface ExcerptInfo {
  state: ExcerptState;
  requested_at: string | null;
  reason: string | null;
}

/** contract: GET /api/v1/plays/{id}/evidence */
export interface Evidence {
  play: Play;
  recording_duration: number;
  offset_start: number;
  offset_end: number;
  rate_ppm: number;
  matched_fraction: number;
  agent: string | null;
  segments: EvidenceSegment[];
  titles: IcyTitle[];
  excerpt: ExcerptInfo;
  flag: PlayFlag | null;
}

// ---- catalog ---------------------------------------------------------------------------------

export interface Recording {
  external_id: string;
  title: string;
  artist: string;
  isrc: string | null;
  iswc: string | null;
  album: string | null;
  label: string | null;
  composer: string | null;
  publisher: string | null;
  year: number | null;
  duration: number;
}

export interface RecordingPage {
  total: number;
  items: Recording[];
}

export interface RecordingPut {
  outcome: string;
  recording: Recording;
}

// ---- reports ---------------------------------------------------------------------------------

export type Cell = string | number | null;
export type Row = Record<string, Cell>;

export interface PlaylistReport {
  station: string;
  period: string;
  timezone: string;
  plays: Row[];
}

export type AirtimeBy = "recording" | "artist" | "label" | "station" | "recording_station";

export interface AirtimeReport {
  period: string;
  by: AirtimeBy;
  page: number;
  page_size: number;
  items: Row[];
}

export interface ActivityReport {
  period: string;
  timezone: string;
  stations: Row[];
}

export interface UnidentifiedReport {
  period: string;
  timezone: string;
  min_level_dbfs: number;
  stations: Row[];
  stretches: Row[];
}

export interface ReportFile {
  id: number;
  period: string;
  report: "airtime" | "activity" | "playlist";
  scope: string;
  format: "xlsx" | "pdf" | "csv";
  lang: "fr" | "en";
  name: string;
  size: number;
  sha256: string;
  rows: number | null;
  generated_at: string;
  title: string;
  changed?: boolean;
}

// ---- fleet (contract) --------------------------------------------------------------------------

export type RateSource = "learned" | "admin";

export interface StationAdmin {
  slug: string;
  name: string;
  city: string | null;
  frequency: string | null;
  created_at: string;
  agents: string[];
  rate_ppm: number | null;
  rate_source: RateSource | null;
  rate_learned_at: string | null;
  variants_ppm: number[];
}

export interface AgentAdmin {
  name: string;
  stations: string[];
  created_at: string;
  last_seen_at: string | null;
  version: string | null;
  active_tokens: number;
  enrollment_expires_at: string | null;
}

export interface EnrollmentCode {
  enrollment_code: string;
  expires_at: string;
}

export interface UserAdmin {
  name: string;
  role: Role;
  created_at: string;
  active_tokens: number;
}

export interface NewToken {
  token: string;
}

export interface Revoked {
  revoked: number;
}

export interface Items<T> {
  items: T[];
}

export interface EventTicket {
  ticket: string;
  expires_at: string;
}
