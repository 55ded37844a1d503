// DEVELOPMENT ONLY, to be deleted once the collector implements API-CONTRACT.md (phase 2).
//
// A Vite plugin (SODAV_CONTRACT_STUB=1 npm run dev|preview) that answers the contract's
// endpoints the collector does not have yet, so the pages can be seen and screenshotted
// against a real collector today. What the collector already serves is proxied untouched or,
// for /stations/status and /plays, completed with the contract's added fields. Answers are
// built from the collector's real data where it has them (plays, unidentified stretches,
// activity); fleet lists, flags, ICY titles and segments are made up and kept in memory.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Connect, Plugin } from "vite";

type Json = Record<string, unknown>;
type Play = Json & {
  id: number;
  station: string;
  start_utc: string;
  end_utc: string;
  duration: number;
  title: string;
  artist: string;
};
type Status = Json & { station: string; name: string };

const flags = new Map<number, Json>();
const excerpts = new Map<number, Json>();
const createdStations: Json[] = [];
const rates = new Map<string, number | null>();
const agents: Json[] = [];
const users: Json[] = [];
let eventId = 0;

/** Three seconds of a 440 Hz tone as WAV: what an excerpt sounds like here. */
function toneWav(): Buffer {
  const rate = 8000;
  const n = rate * 3;
  const wav = Buffer.alloc(44 + n * 2);
  wav.write("RIFF", 0);
  wav.writeUInt32LE(36 + n * 2, 4);
  wav.write("WAVEfmt ", 8);
  wav.writeUInt32LE(16, 16);
  wav.writeUInt16LE(1, 20); // PCM
  wav.writeUInt16LE(1, 22); // mono
  wav.writeUInt32LE(rate, 24);
  wav.writeUInt32LE(rate * 2, 28);
  wav.writeUInt16LE(2, 32);
  wav.writeUInt16LE(16, 34);
  wav.write("data", 36);
  wav.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i += 1)
    wav.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / rate)), 44 + i * 2);
  return wav;
}

function excerptInfo(id: number): Json {
  const info = excerpts.get(id);
  if (!info) return { state: "none", requested_at: null, reason: null };
  // the agent "answers" three seconds after the request
  const ready = Date.now() - Date.parse(String(info.requested_at)) > 3000;
  return ready ? { ...info, state: "available" } : info;
}

function send(res: ServerResponse, status: number, body?: unknown): void {
  res.statusCode = status;
  if (body === undefined) return void res.end();
  res.setHeader("Content-Type", "application/json");
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, status: number, code: number, name: string, message: string): void {
  send(res, status, { code, error: name, message, details: [] });
}

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString();
  return text ? (JSON.parse(text) as Json) : {};
}

export function contractStub(collector: string): Plugin {
  async function real<T>(req: IncomingMessage, path: string): Promise<{ status: number; body: T }> {
    const response = await fetch(collector + path, {
      headers: { Authorization: req.headers.authorization ?? "" },
    });
    return { status: response.status, body: (await response.json()) as T };
  }

  async function allPlays(req: IncomingMessage, query: string): Promise<Play[]> {
    const { body } = await real<{ items?: Play[] }>(req, `/api/v1/plays?page_size=1000&${query}`);
    return body.items ?? [];
  }

  async function findPlay(req: IncomingMessage, id: number): Promise<Play | undefined> {
    const year = new Date().getUTCFullYear();
    for (const period of [String(year), String(year - 1)]) {
      const found = (await allPlays(req, `period=${period}`)).find((p) => p.id === id);
      if (found) return found;
    }
    return undefined;
  }

  const withFlag = (p: Play) => ({ ...p, flag: flags.get(p.id) ?? null });

  async function statuses(req: IncomingMessage): Promise<Status[]> {
    const { body } = await real<Status[]>(req, "/api/v1/stations/status");
    if (!Array.isArray(body)) return body;
    const year = new Date().getUTCFullYear();
    return Promise.all(
      body.map(async (s) => {
        const plays = await allPlays(req, `station=${s.station}&period=${year}`);
        const last = plays.at(-1);
        return {
          ...s,
          last_play: last
            ? {
                id: last.id,
                title: last.title,
                artist: last.artist,
                start: last.start_utc,
                end: last.end_utc,
                status: last.status,
              }
            : null,
        };
      }),
    );
  }

  async function who(req: IncomingMessage): Promise<{ status: number; body: Json }> {
    const check = await fetch(`${collector}/api/v1/stations/status`, {
      headers: { Authorization: req.headers.authorization ?? "" },
    });
    if (check.status !== 200) return { status: check.status, body: (await check.json()) as Json };
    // an admin gets past require_role("admin") to the form validation (422); an analyst does not (403)
    const probe = await fetch(`${collector}/api/v1/catalog/recordings`, {
      method: "POST",
      headers: { Authorization: req.headers.authorization ?? "" },
    });
    const role = probe.status === 403 ? "analyst" : "admin";
    const names = JSON.parse(process.env.SODAV_STUB_NAMES ?? "{}") as Record<string, string>;
    const token = (req.headers.authorization ?? "").replace(/^Bearer /, "");
    return { status: 200, body: { name: names[token] ?? role, role, timezone: "Africa/Dakar", version: "0.1.0" } };
  }

  async function timeline(req: IncomingMessage, slug: string, date: string): Promise<Json> {
    const plays = await allPlays(req, `station=${slug}&period=${date}`);
    const { body: unknown } = await real<{ stretches?: Json[] }>(
      req,
      `/api/v1/reports/unidentified?period=${date}&station=${slug}`,
    );
    const { body: activity } = await real<{ stations?: Json[] }>(
      req,
      `/api/v1/reports/activity?period=${date}&station=${slug}`,
    );
    const act = activity.stations?.[0] ?? {};
    const items: Json[] = plays.map((p) => ({
      kind: "play",
      start: p.start_utc,
      end: p.end_utc,
      play_id: p.id,
      title: p.title,
      artist: p.artist,
    }));
    for (const s of unknown.stretches ?? []) {
      items.push({ kind: "unknown", start: `${s.date}T${s.start}Z`, end: `${s.date}T${s.end}Z` });
    }
    items.sort((a, b) => String(a.start).localeCompare(String(b.start)));
    const titles = plays.map((p, i) => ({
      start: new Date(Date.parse(p.start_utc) + 3000).toISOString(),
      end: plays[i + 1] ? new Date(Date.parse(plays[i + 1]!.start_utc) + 3000).toISOString() : null,
      title: `${p.artist.toUpperCase()} - ${p.title.toUpperCase()}`,
    }));
    const next = new Date(`${date}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    return {
      station: slug,
      name: slug,
      date,
      timezone: "Africa/Dakar",
      start: `${date}T00:00:00Z`,
      end: next.toISOString().replace(".000", ""),
      monitored_seconds: Number(act.monitored_hours ?? 0) * 3600,
      monitored_share: Number(act.monitored_share ?? 0),
      items,
      titles,
    };
  }

  function evidence(p: Play): Json {
    const segments = [];
    for (let t = 0, i = 0; t < p.duration; t += 10, i += 1) {
      segments.push({
        id: p.id * 1000 + i,
        start: new Date(Date.parse(p.start_utc) + t * 1000).toISOString(),
        duration: 10,
        level_dbfs: -14 - (i % 4),
        offset: t + 0.4,
        score: 0.72 + ((i * 7) % 20) / 100,
        rate_ppm: 20000,
      });
    }
    return {
      play: withFlag(p),
      recording_duration: Math.ceil(p.duration + 5),
      offset_start: 0.4,
      offset_end: p.duration + 0.4,
      rate_ppm: 20000,
      matched_fraction: 0.91,
      agent: "demo-box",
      segments,
      titles: [
        {
          start: new Date(Date.parse(p.start_utc) + 3000).toISOString(),
          end: null,
          title: `${p.artist} - ${p.title}`.toUpperCase(),
        },
      ],
      excerpt: excerptInfo(p.id),
      flag: flags.get(p.id) ?? null,
    };
  }

  async function stations(req: IncomingMessage): Promise<Json[]> {
    const list = await statuses(req);
    const base = Array.isArray(list) ? list : [];
    return [
      ...base.map((s, i) => {
        const rate = rates.has(s.station) ? rates.get(s.station)! : i === 0 ? 20000 : null;
        const source = rates.has(s.station) ? (rate === null ? null : "admin") : rate === null ? null : "learned";
        return {
          slug: s.station,
          name: s.name,
          city: "Dakar",
          frequency: null,
          created_at: "2026-01-10T12:00:00Z",
          agents: s.state === "never_seen" ? [] : ["demo-box"],
          rate_ppm: rate,
          rate_source: source,
          rate_learned_at: source === "learned" ? "2026-11-20T04:00:00Z" : null,
          variants_ppm: rate === null ? [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000] : [rate],
        };
      }),
      ...createdStations,
    ];
  }

  function seed(me: Json): void {
    if (agents.length === 0) {
      const now = Date.now();
      agents.push(
        {
          name: "demo-box",
          stations: ["radio-demo"],
          created_at: "2026-01-10T12:00:00Z",
          last_seen_at: new Date(now - 20_000).toISOString(),
          version: "0.1.0",
          active_tokens: 1,
          enrollment_expires_at: null,
        },
        {
          name: "thies-01",
          stations: ["rfm-thies"],
          created_at: "2026-02-01T09:00:00Z",
          last_seen_at: null,
          version: null,
          active_tokens: 0,
          enrollment_expires_at: new Date(now + 20 * 3600_000).toISOString(),
        },
      );
    }
    if (users.length === 0) {
      users.push(
        { name: String(me.name), role: me.role, created_at: "2026-01-10T12:00:00Z", active_tokens: 1 },
        { name: "moussa", role: "analyst", created_at: "2026-02-03T10:00:00Z", active_tokens: 1 },
        { name: "fatou", role: "analyst", created_at: "2026-03-12T08:30:00Z", active_tokens: 0 },
      );
    }
  }

  const code = () => `sde_${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
  const inADay = () => new Date(Date.now() + 24 * 3600_000).toISOString();

  function stream(req: IncomingMessage, res: ServerResponse, auth: string): void {
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache", Connection: "keep-alive" });
    const fake = { headers: { authorization: auth } } as IncomingMessage;
    let last = "";
    const push = async () => {
      const list = await statuses(fake);
      const text = JSON.stringify(list);
      if (text === last || !Array.isArray(list)) return;
      last = text;
      for (const s of list) res.write(`event: station_status\nid: ${++eventId}\ndata: ${JSON.stringify(s)}\n\n`);
    };
    void push();
    const poll = setInterval(() => void push(), 10_000);
    const ping = setInterval(() => res.write(": ping\n\n"), 15_000);
    req.on("close", () => {
      clearInterval(poll);
      clearInterval(ping);
    });
  }

  const tickets = new Map<string, string>();

  const middleware: Connect.NextHandleFunction = (req, res, next) => {
    const url = new URL(req.url ?? "/", "http://stub");
    const path = url.pathname;
    const method = req.method ?? "GET";
    if (!path.startsWith("/api/v1/")) return next();
    const handle = async (): Promise<boolean> => {
      let m: RegExpMatchArray | null;
      if (path === "/api/v1/users/me" && method === "GET") {
        const r = await who(req);
        send(res, r.status, r.body);
        return true;
      }
      if (path === "/api/v1/stations/status") {
        send(res, 200, await statuses(req));
        return true;
      }
      if (path === "/api/v1/plays" && method === "GET" && (url.searchParams.get("format") ?? "json") === "json") {
        const r = await real<{ items?: Play[] }>(req, `${path}${url.search}`);
        send(res, r.status, r.body.items ? { ...r.body, items: r.body.items.map(withFlag) } : r.body);
        return true;
      }
      if ((m = path.match(/^\/api\/v1\/stations\/([^/]+)\/timeline$/))) {
        send(res, 200, await timeline(req, decodeURIComponent(m[1]!), url.searchParams.get("date") ?? ""));
        return true;
      }
      if ((m = path.match(/^\/api\/v1\/plays\/(\d+)\/(evidence|flag|excerpt)$/))) {
        const id = Number(m[1]);
        const play = await findPlay(req, id);
        if (!play) return (error(res, 404, 12, "NOT_FOUND", `no play ${id}`), true);
        if (m[2] === "evidence") send(res, 200, evidence(play));
        else if (m[2] === "flag" && method === "PUT") {
          const body = await readJson(req);
          const flag = { reason: body.reason, by: (await who(req)).body.name, at: new Date().toISOString() };
          flags.set(id, flag);
          send(res, 200, flag);
        } else if (m[2] === "flag" && method === "DELETE") {
          flags.delete(id);
          send(res, 204);
        } else if (m[2] === "excerpt" && method === "POST") {
          const info = { state: "requested", requested_at: new Date().toISOString(), reason: null };
          excerpts.set(id, info);
          send(res, 202, info);
        } else if (m[2] === "excerpt" && excerptInfo(id).state === "available") {
          res.setHeader("Content-Type", "audio/wav");
          res.setHeader("Content-Disposition", `attachment; filename="play-${id}.wav"`);
          res.end(toneWav());
        } else error(res, 404, 12, "NOT_FOUND", "the agent has not sent this excerpt yet");
        return true;
      }
      if (path === "/api/v1/events/tickets" && method === "POST") {
        const r = await who(req);
        if (r.status !== 200) return (send(res, r.status, r.body), true);
        const ticket = `sdt_${Math.random().toString(36).slice(2)}`;
        tickets.set(ticket, req.headers.authorization ?? "");
        send(res, 201, { ticket, expires_at: new Date(Date.now() + 60_000).toISOString() });
        return true;
      }
      if (path === "/api/v1/events/stream") {
        const auth = tickets.get(url.searchParams.get("ticket") ?? "");
        if (auth === undefined) return (error(res, 401, 5, "INVALID_TOKEN", "unknown or used ticket"), true);
        tickets.delete(url.searchParams.get("ticket") ?? "");
        stream(req, res, auth);
        return true;
      }
      const fleet = /^\/api\/v1\/(stations|agents|users)(\/|$)/.test(path);
      if (!fleet) return false;
      const me = await who(req);
      if (me.status !== 200) return (send(res, me.status, me.body), true);
      if (me.body.role !== "admin") return (error(res, 403, 11, "FORBIDDEN_ROLE", "this needs the role admin"), true);
      seed(me.body);
      if (path === "/api/v1/stations" && method === "GET") send(res, 200, { items: await stations(req) });
      else if (path === "/api/v1/stations" && method === "POST") {
        const b = await readJson(req);
        const st = {
          slug: b.slug,
          name: b.name ?? b.slug,
          city: b.city ?? null,
          frequency: b.frequency ?? null,
          created_at: new Date().toISOString(),
          agents: [],
          rate_ppm: null,
          rate_source: null,
          rate_learned_at: null,
          variants_ppm: [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000],
        };
        createdStations.push(st);
        send(res, 201, st);
      } else if ((m = path.match(/^\/api\/v1\/stations\/([^/]+)\/rate$/))) {
        rates.set(decodeURIComponent(m[1]!), (await readJson(req)).rate_ppm as number | null);
        send(
          res,
          200,
          (await stations(req)).find((s) => s.slug === m![1]),
        );
      } else if (path === "/api/v1/agents" && method === "GET") send(res, 200, { items: agents });
      else if (path === "/api/v1/agents" && method === "POST") {
        const b = await readJson(req);
        const agent = {
          name: b.name,
          stations: b.stations,
          created_at: new Date().toISOString(),
          last_seen_at: null,
          version: null,
          active_tokens: 0,
          enrollment_expires_at: inADay(),
        };
        agents.push(agent);
        send(res, 201, { agent, enrollment_code: code(), expires_at: inADay() });
      } else if ((m = path.match(/^\/api\/v1\/agents\/([^/]+)\/enrollment-codes$/))) {
        send(res, 201, { enrollment_code: code(), expires_at: inADay() });
      } else if ((m = path.match(/^\/api\/v1\/(agents|users)\/([^/]+)\/tokens$/)) && method === "DELETE") {
        const row = (m[1] === "agents" ? agents : users).find((x) => x.name === decodeURIComponent(m![2]!));
        const n = Number(row?.active_tokens ?? 0);
        if (row) row.active_tokens = 0;
        send(res, 200, { revoked: n });
      } else if (path === "/api/v1/users" && method === "GET") send(res, 200, { items: users });
      else if (path === "/api/v1/users" && method === "POST") {
        const b = await readJson(req);
        const user = { name: b.name, role: b.role, created_at: new Date().toISOString(), active_tokens: 1 };
        users.push(user);
        send(res, 201, { user, token: `sdu_${code().slice(4)}` });
      } else if ((m = path.match(/^\/api\/v1\/users\/([^/]+)$/)) && method === "PATCH") {
        const user = users.find((x) => x.name === decodeURIComponent(m![1]!));
        if (user) user.role = (await readJson(req)).role;
        send(res, 200, user);
      } else if ((m = path.match(/^\/api\/v1\/users\/([^/]+)\/tokens$/)) && method === "POST") {
        send(res, 201, { token: `sdu_${code().slice(4)}` });
      } else return false;
      return true;
    };
    handle().then(
      (done) => {
        if (!done) next();
      },
      (e: unknown) => error(res, 500, 99, "INTERNAL", `contract stub: ${String(e)}`),
    );
  };

  return {
    name: "sodav-contract-stub",
    configureServer: (server) => void server.middlewares.use(middleware),
    configurePreviewServer: (server) => void server.middlewares.use(middleware),
  };
}
