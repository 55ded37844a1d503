// Live updates over server-sent events (API-CONTRACT.md, "Live events"). EventSource cannot send
// an Authorization header, so each connection first trades the token for a one-use ticket.
// On any error the stream is closed and reopened with a new ticket, backing off to 30 s.
import { useQueryClient, type QueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { api, buildUrl } from "./client";
import { stationKeys } from "./stations";
import type { EventTicket, Play, StationStatus } from "./types";

export type LiveState = "connecting" | "live" | "offline";

/** The list with `status` put in place of the station's old entry (or added). */
export function mergeStatus(list: StationStatus[] | undefined, status: StationStatus): StationStatus[] {
  if (list === undefined) return [status];
  const i = list.findIndex((s) => s.station === status.station);
  if (i < 0) return [...list, status];
  const old = list[i];
  const merged = { ...status, last_play: status.last_play === undefined ? old?.last_play : status.last_play };
  return list.map((s, j) => (j === i ? merged : s));
}

/** The station's last play becomes `play` if it started at or after the one shown. */
export function mergePlay(list: StationStatus[] | undefined, play: Play): StationStatus[] | undefined {
  return list?.map((s) => {
    if (s.station !== play.station) return s;
    if (s.last_play && s.last_play.id !== play.id && s.last_play.start > play.start_utc) return s;
    const { id, title, artist, start_utc, end_utc, status } = play;
    return { ...s, last_play: { id, title, artist, start: start_utc, end: end_utc, status } };
  });
}

/** Events are applied in batches, at most every BATCH_MS: a fresh stream starts with every
 * station's state (300 events at once), which would otherwise re-render the overview 300 times. */
const BATCH_MS = 100;

function listen(client: QueryClient, source: EventSource, onId: (id: string) => void): void {
  let pending: ((list: StationStatus[] | undefined) => StationStatus[] | undefined)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  const flush = () => {
    const updates = pending;
    pending = [];
    timer = undefined;
    client.setQueryData<StationStatus[]>(stationKeys.status, (old) =>
      updates.reduce<StationStatus[] | undefined>((list, update) => update(list), old),
    );
  };
  const queue = (update: (list: StationStatus[] | undefined) => StationStatus[] | undefined) => {
    pending.push(update);
    timer ??= setTimeout(flush, BATCH_MS);
  };
  source.addEventListener("station_status", (e: MessageEvent<string>) => {
    if (e.lastEventId) onId(e.lastEventId);
    const status = JSON.parse(e.data) as StationStatus;
    queue((list) => mergeStatus(list, status));
  });
  source.addEventListener("play", (e: MessageEvent<string>) => {
    if (e.lastEventId) onId(e.lastEventId);
    const play = JSON.parse(e.data) as Play;
    queue((list) => mergePlay(list, play));
  });
}

export function useLiveEvents(): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    let source: EventSource | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    let attempt = 0;
    let lastId: string | null = null;

    const retry = () => {
      if (stopped) return;
      setState("offline");
      attempt += 1;
      timer = setTimeout(connect, Math.min(30_000, 1000 * 2 ** attempt));
    };
    async function connect() {
      try {
        const { ticket } = await api<EventTicket>("/api/v1/events/tickets", { method: "POST" });
        if (stopped) return;
        source = new EventSource(buildUrl("/api/v1/events/stream", { ticket, last_event_id: lastId }));
        source.onopen = () => {
          attempt = 0;
          setState("live");
        };
        source.onerror = () => {
          source?.close();
          retry();
        };
        listen(client, source, (id) => {
          lastId = id;
        });
      } catch {
        retry();
      }
    }
    void connect();
    return () => {
      stopped = true;
      clearTimeout(timer);
      source?.close();
    };
  }, [client]);
  return state;
}
