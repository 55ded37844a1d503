"""A week of several stations whose off-catalog songs recur: how much of them gets named, at what cost.

    .venv/bin/python -m bench.recognizers.week --out /tmp/week            # 4 stations, 7 days
    .venv/bin/python -m bench.recognizers.week --out /tmp/week --smoke    # tiny: checks that it runs

Each station-day is a programme built with bench/accuracy's tools (bench/accuracy/unknown.py:
songs, talk, ad breaks, DJ lines, jingles, dead air; the station chains of
bench/accuracy/radio.py), accelerated: ``--hours`` of audio a day. Its songs are catalog
songs and a pool of ``--songs`` off-catalog songs that recur all week; the local AudD/AcoustID
stand-in (tests/support/recognizers_standin) knows the pool, and identifies audio (it is given
no names). Each day's audio is fingerprinted as an agent does (at the station's rate variant),
stored, and put through the collector's own worker cycle (:func:`collector.worker.run_once`,
clustering included), its re-matching of the past (:func:`rematch_past`) and its lookups
(:class:`collector.recognizers.lookups.Lookups`, through the gate, against the stand-in); the
agents' side of excerpt requests is played by cutting the asked seconds from the day's file and
answering as ``POST /api/v1/excerpts`` does (:func:`collector.ingest.excerpts.answer`). A
last day, after the week, measures what the learned songs cost once known.

Measures (docs/benchmarks.md, "Unknown music over a week"): the share of the pool's airtime
named at the end of the week, lookups per distinct unknown song, paid lookups on speech or
ads, the named plays' start and end errors (p90), AudD requests per station-day after the
week, and the month's cost for 300 stations at the list price.
"""

from __future__ import annotations

import argparse
import base64
import json
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr
from sqlalchemy import func, select

from bench.accuracy.corpus import Track, scan, split
from bench.accuracy.radio import PROFILES
from bench.accuracy.unknown import Item, build
from collector.audio import decode_file
from collector.catalog.models import Recording
from collector.catalog.service import upsert_recording
from collector.db.session import Database, open_database
from collector.fleet.models import Agent, Station
from collector.fleet.service import get_or_create_station, tokenless_agent
from collector.ingest.excerpts import ExcerptRequest, answer
from collector.ingest.models import Segment
from collector.ingest.service import store_segments
from collector.matching.rematch import rematch_past
from collector.plays.models import Play
from collector.recognizers.clip import clip
from collector.recognizers.clusters import UnknownCluster
from collector.recognizers.learning import LEARNED_SOURCES
from collector.recognizers.lookups import Lookups
from collector.recognizers.models import RecognizerRequests
from collector.recognizers.service import Recognizers
from collector.settings import CollectorSettings, RecognizerSettings
from collector.worker import run_once
from demo.radio import Profile, broadcast
from shared.chroma import CHROMAPRINT_RATE, rate_to_ppm
from shared.schemas import ExcerptV1
from shared.segmenter import Segmenter
from tests.support.recognizers_standin import References, Standin, write_catalog

ROOT = Path(__file__).resolve().parents[2]
STATIONS = 300
DAYS_A_MONTH = 30


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


@dataclass
class Day:
    station: str
    profile: Profile
    start: datetime
    audio: Path
    items: list[Item]  # broadcast seconds


def _programme(
    args: argparse.Namespace, profile: Profile, day: int, songs: list[Track], short: list[Track]
) -> Day:
    out = args.out / f"day{day}" / profile.name
    out.mkdir(parents=True, exist_ok=True)
    pcm, items = build(
        songs, short, args.hours, args.seed * 1000 + day * 10 + PROFILES.index(profile), args.out / "tts"
    )
    audio = broadcast(pcm, profile, out, args.seed + day)
    for it in items:
        it.start, it.end = it.start / profile.speed, it.end / profile.speed
    start = args.t0 + timedelta(days=day, minutes=7 * PROFILES.index(profile))
    with (out / "truth.csv").open("w", encoding="utf-8") as fh:
        fh.write("kind,start,end,start_s,end_s,path,offset_s,note\n")
        for it in items:
            a, b = start + timedelta(seconds=it.start), start + timedelta(seconds=it.end)
            fh.write(
                f"{it.kind},{a:%H:%M:%S},{b:%H:%M:%S},{it.start:.1f},{it.end:.1f},{it.path},{it.offset:.1f},{it.note}\n"
            )
    return Day(profile.name, profile, start, audio, items)


def _store(db: Database, d: Day) -> None:
    ppm = rate_to_ppm(d.profile.speed)
    seg = Segmenter(CHROMAPRINT_RATE, 10.0, [ppm], d.start)
    outs = seg.feed(decode_file(d.audio)) + seg.finish()
    with db.sessions() as s:
        station = s.scalars(select(Station).where(Station.slug == d.station)).one()
        agent = s.scalars(select(Agent).where(Agent.name == f"box-{d.station}")).one()
        store_segments(s, agent.id, station.id, _next_seq(s, agent.id), outs)
        s.commit()


def _next_seq(s: Any, agent_id: int) -> int:
    return (
        int(s.scalar(select(func.coalesce(func.max(Segment.seq), -1)).where(Segment.agent_id == agent_id)))
        + 1
    )


def _work(db: Database, settings: CollectorSettings) -> None:
    """The worker until its queue is empty, the past re-matched included."""
    catalog = None
    while True:
        catalog, done = run_once(db.sessions, catalog, settings)
        if not done and not rematch_past(db.sessions, settings.matching.rematch_days):
            return


def _answer_excerpts(db: Database, days: list[Day]) -> int:
    """The agents' side: cut each pending request's seconds from the day's file and answer."""
    answered = 0
    with db.sessions() as s:
        for req in s.scalars(select(ExcerptRequest).where(ExcerptRequest.state == "pending")).all():
            station = s.get_one(Station, req.station_id)
            d = next(
                (
                    x
                    for x in days
                    if x.station == station.slug and x.start <= req.start < x.start + timedelta(hours=24)
                ),
                None,
            )
            agent = s.scalars(select(Agent).where(Agent.name == f"box-{station.slug}")).one()
            kw: dict[str, Any] = {"agent": agent.name, "request": req.wire_id, "station": station.slug}
            if d is None:
                body = ExcerptV1(**kw, gone="expired")
            else:
                audio = clip(
                    d.audio, (req.start - d.start).total_seconds(), (req.end - req.start).total_seconds()
                )
                body = ExcerptV1(**kw, start=req.start, end=req.end, audio=base64.b64encode(audio).decode())
            answer(s, agent, body)
            answered += 1
        s.commit()
    return answered


def _name(db: Database, recognizers: Recognizers, days: list[Day]) -> None:
    lookups = Lookups(db.sessions, recognizers, batch=50)
    for _ in range(200):
        moved = lookups.tick(now=datetime.now(UTC) + timedelta(minutes=1))  # a pending excerpt's wait is over
        if not moved and not _answer_excerpts(db, days):
            return
        _answer_excerpts(db, days)


def _requests(db: Database, service: str) -> int:
    with db.sessions() as s:
        return int(
            s.scalar(
                select(func.coalesce(func.sum(RecognizerRequests.count), 0)).where(
                    RecognizerRequests.service == service, RecognizerRequests.outcome != "unreachable"
                )
            )
            or 0
        )


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def measure(
    db: Database, days: list[Day], after: list[Day], pool: dict[str, str], refs: References
) -> dict[str, Any]:
    """Named share and boundaries over the week (``days``); excerpts over the day after too."""
    title_path = {r.title: str(r.path) for r in refs.refs}
    with db.sessions() as s:
        slug = {st.id: st.slug for st in s.scalars(select(Station))}
        learned = {
            r.id: title_path.get(r.title, "?")
            for r in s.scalars(select(Recording).where(Recording.source.in_(LEARNED_SOURCES)))
        }
        plays = [
            (slug[p.station_id], p.start, p.end, learned[p.recording_id])
            for p in s.scalars(select(Play).where(Play.recording_id.in_(learned)))
        ]
        asked = s.scalars(select(ExcerptRequest)).all()
        excerpts = [(slug[r.station_id], r.start, r.end) for r in asked]
    total = named = 0.0
    errors_start, errors_end = [], []
    for d in days:
        for it in d.items:
            if it.kind != "song" or it.path not in pool:
                continue
            a = d.start + timedelta(seconds=it.start)
            b = d.start + timedelta(seconds=it.end)
            length = (b - a).total_seconds()
            total += length
            mine = [p for p in plays if p[0] == d.station and p[3] == it.path and p[1] < b and p[2] > a]
            covered = sum(
                _overlap(0, length, (p[1] - a).total_seconds(), (p[2] - a).total_seconds()) for p in mine
            )
            named += min(length, covered)  # two learned recordings of one song may both match it
            if mine:
                errors_start.append(abs((min(p[1] for p in mine) - a).total_seconds()))
                errors_end.append(abs((max(p[2] for p in mine) - b).total_seconds()))
    off_music = 0
    for station, a, b in excerpts:
        d = next(
            x for x in days + after if x.station == station and x.start <= a < x.start + timedelta(hours=24)
        )
        s0, s1 = (a - d.start).total_seconds(), (b - d.start).total_seconds()
        song = sum(_overlap(s0, s1, it.start, it.end) for it in d.items if it.kind == "song")
        off_music += song < (s1 - s0) / 2
    return {
        "named_share": named / total if total else 0.0,
        "pool_airtime_s": total,
        "excerpts": len(excerpts),
        "excerpts_off_music": off_music,
        "start_p90": float(np.percentile(errors_start, 90)) if errors_start else None,
        "end_p90": float(np.percentile(errors_end, 90)) if errors_end else None,
        "named_plays": len(errors_start),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.recognizers.week", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="work directory")
    p.add_argument("--stations", type=int, default=4)
    p.add_argument("--days", type=int, default=7)
    p.add_argument("--hours", type=float, default=0.5, help="audio per station-day (accelerated)")
    p.add_argument("--songs", type=int, default=8, help="off-catalog songs that recur all week")
    p.add_argument("--catalog", type=int, default=10, help="catalog songs in the programmes")
    p.add_argument("--seed", type=int, default=5)
    p.add_argument("--smoke", action="store_true", help="a tiny corpus and week: checks that it runs")
    args = p.parse_args(argv)
    if args.smoke:
        args.stations, args.days, args.hours, args.songs, args.catalog = 1, 1, 0.08, 2, 2
    args.out.mkdir(parents=True, exist_ok=True)
    args.t0 = (datetime.now(UTC) - timedelta(days=args.days + 2)).replace(
        hour=6, minute=0, second=0, microsecond=0
    )
    started = time.monotonic()
    songs, short = scan(
        args.out / ("corpus-smoke.json" if args.smoke else "corpus.json"), log, 2 if args.smoke else None
    )
    catalog, offcat = split(songs, args.seed)
    rng = random.Random(args.seed)
    pool_tracks = rng.sample(offcat, min(args.songs, len(offcat)))
    cat_tracks = rng.sample(catalog, min(args.catalog, len(catalog)))
    pool = {t.path: t.stem for t in pool_tracks}
    write_catalog(args.out / "standin", [Path(t.path) for t in pool_tracks])
    refs = References.load(args.out / "standin")
    profiles = PROFILES[: args.stations]
    db_path = args.out / "week.db"
    db_path.unlink(missing_ok=True)
    with Standin(refs) as standin:
        settings = CollectorSettings(
            environment="test",
            database_url=f"sqlite:///{db_path}",
            recognizers=RecognizerSettings(
                audd_url=standin.audd_url,
                acoustid_url=standin.acoustid_url,
                audd_token=SecretStr("audd-test-token"),
                acoustid_key=SecretStr("acoustid-test-key"),
            ),
        )
        with open_database(settings, migrate=True) as db, Recognizers(settings, db.sessions) as recognizers:
            with db.sessions() as s:
                for t in cat_tracks:
                    upsert_recording(
                        s,
                        f"CAT-{Path(t.path).stem}"[:100],
                        Path(t.path),
                        {"title": t.stem, "artist": t.package},
                    )
                for pr in profiles:
                    st = get_or_create_station(s, pr.name, pr.name)
                    st.rate_ppm, st.rate_source = rate_to_ppm(pr.speed), "admin"
                    tokenless_agent(s, f"box-{pr.name}", st)
                s.commit()
            week: list[Day] = []
            audd_by_day = []
            for day in range(args.days + 1):  # the last one: after the week
                days = [_programme(args, pr, day, cat_tracks + pool_tracks, short) for pr in profiles]
                before = _requests(db, "audd")
                for d in days:
                    _store(db, d)
                _work(db, settings)
                _name(db, recognizers, week + days)
                _work(db, settings)
                audd_by_day.append(_requests(db, "audd") - before)
                log(f"day {day + 1}: AudD requests {audd_by_day[-1]}, {time.monotonic() - started:.0f} s")
                if day < args.days:
                    week += days
                else:
                    after = days
            result = measure(db, week, after, pool, refs)
            aired = {it.path for d in week for it in d.items if it.kind == "song" and it.path in pool}
            with db.sessions() as s:
                looked_up = int(
                    s.scalar(
                        select(func.count())
                        .select_from(UnknownCluster)
                        .where(UnknownCluster.lookup != "waiting")
                    )
                    or 0
                )
            acoustid, audd = _requests(db, "acoustid"), _requests(db, "audd")
    after_rate = audd_by_day[-1] / len(after)
    price = settings.recognizers.audd_usd_per_1000
    result.update(
        stations=len(profiles),
        days=args.days,
        hours_a_day=args.hours,
        pool_songs=len(pool),
        pool_songs_aired=len(aired),
        clusters_looked_up=looked_up,
        lookups_per_song=looked_up / max(1, len(aired)),
        acoustid_requests=acoustid,
        audd_requests=audd - audd_by_day[-1],
        audd_per_song=(audd - audd_by_day[-1]) / max(1, len(aired)),
        audd_per_station_day_after=after_rate,
        month_cost_300_usd=after_rate * STATIONS * DAYS_A_MONTH * price / 1000,
        learning_cost_300_usd=(audd - audd_by_day[-1]) / len(profiles) * STATIONS * price / 1000,
        seconds=time.monotonic() - started,
    )
    (args.out / "week.json").write_text(json.dumps(result, indent=1))
    _print(result, price)
    return 0


def _print(r: dict[str, Any], price: float) -> None:
    def fmt(x: Any, nd: int = 2) -> str:
        return "n/a" if x is None else f"{x:.{nd}f}"

    print("| measure | value | target |")
    print("| --- | --- | --- |")
    print(
        f"| recurring unknown airtime named at the end of the week | {fmt(r['named_share'], 3)} | >= 0.95 |"
    )
    print(f"| lookups per distinct unknown song | {fmt(r['lookups_per_song'])} | <= 1.2 |")
    print(f"| AudD requests per distinct unknown song | {fmt(r['audd_per_song'])} | |")
    print(f"| paid lookups on speech or ads | {r['excerpts_off_music']} | 0 |")
    print(f"| named plays' start error p90 (s) | {fmt(r['start_p90'], 1)} | <= 3 |")
    print(f"| named plays' end error p90 (s) | {fmt(r['end_p90'], 1)} | <= 3 |")
    print(f"| AudD requests per station-day after the week | {fmt(r['audd_per_station_day_after'])} | |")
    cost = fmt(r["month_cost_300_usd"])
    print(f"| month's AudD cost for 300 stations after learning (USD, ${price:g}/1000) | {cost} | |")
    print(f"| learning week's AudD cost scaled to 300 stations (USD) | {fmt(r['learning_cost_300_usd'])} | |")
    print(
        f"{r['stations']} stations x {r['days']} days x {r['hours_a_day']:g} h; {r['pool_songs_aired']} of "
        f"{r['pool_songs']} recurring unknown songs aired ({r['pool_airtime_s'] / 60:.0f} min); "
        f"{r['named_plays']} named plays; AcoustID {r['acoustid_requests']}, "
        f"AudD {r['audd_requests']} requests; {r['seconds']:.0f} s"
    )


if __name__ == "__main__":
    raise SystemExit(main())
