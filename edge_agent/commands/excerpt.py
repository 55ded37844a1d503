"""``sodav-agent excerpt STATION START END``: what a station aired, from the kept excerpts."""

from __future__ import annotations

import argparse
import itertools
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av

from edge_agent.buffer.excerpts import Excerpts, recorded_seconds
from edge_agent.buffer.outbox import Outbox
from edge_agent.config import load
from shared.audio import AudioError

TIME_HELP = "UTC time, e.g. 2026-11-26T10:15:00 (a trailing Z or +00:00 is accepted)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("station", help="the station's slug, as in the configuration")
    parser.add_argument("start", help=TIME_HELP)
    parser.add_argument("end", help="UTC end, same form, or a length in seconds after START (e.g. 180)")
    parser.add_argument("-o", "--output", help="file to write (default: STATION_START.ogg here)")


def _time(text: str) -> datetime:
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def _utc(t: datetime) -> str:
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _fail(message: str, status: int) -> int:
    print(f"sodav-agent excerpt: {message}", file=sys.stderr)
    return status


def run(args: argparse.Namespace) -> int:
    settings = load(args.config)
    slugs = [s.slug for s in settings.stations]
    if args.station not in slugs:
        return _fail(f"no station {args.station!r} in the configuration; stations: {', '.join(slugs)}", 2)
    try:
        start = _time(args.start)
        if re.fullmatch(r"\d+(\.\d+)?", args.end.strip()):
            end = start + timedelta(seconds=float(args.end))
        else:
            end = _time(args.end)
    except ValueError:
        return _fail(f"times are {TIME_HELP}; END may also be a length in seconds", 2)
    if end <= start:
        return _fail(f"END ({_utc(end)}) must come after START ({_utc(start)})", 2)
    b = settings.buffer
    if b.excerpt_hours <= 0:
        return _fail("this agent keeps no excerpts ([buffer] excerpt_hours = 0)", 1)
    if not settings.outbox_path.exists():
        return _fail(f"no outbox at {settings.outbox_path}: the agent has not run yet", 1)
    outbox = Outbox(settings.outbox_path)
    try:
        rate, kbps = settings.fingerprint.sample_rate, b.excerpt_bitrate_kbps
        store = Excerpts(settings.data_dir / "excerpts", outbox, rate, kbps, b.excerpt_hours)
        kept = store.kept(args.station, start, end)
        if not kept:
            span = store.kept_range(args.station)
            have = f"kept: {_utc(span[0])} to {_utc(span[1])} UTC" if span else "nothing kept yet"
            return _fail(
                f"no audio of {args.station} between {_utc(start)} and {_utc(end)} UTC ({have}; "
                f"the agent keeps {b.excerpt_hours:g} h, and writes each minute when it ends)",
                1,
            )
        out = Path(args.output or f"{args.station}_{start.strftime('%Y%m%dT%H%M%SZ')}.ogg")
        try:
            store.extract(args.station, start, end, out)
        except (OSError, av.FFmpegError, AudioError) as exc:
            return _fail(f"could not write {out}: {exc}", 1)
    finally:
        outbox.close()
    first, last = max(start, kept[0][0]), min(end, kept[-1][1])
    print(f"{out}: {recorded_seconds(out):.1f} s of {args.station}, {_utc(first)} to {_utc(last)} UTC")
    if first > start or last < end:
        print(f"  only {_utc(first)} to {_utc(last)} of the range is kept")
    for (_a, gap_from, _p), (gap_to, _b, _q) in itertools.pairwise(kept):
        if (gap_to - gap_from).total_seconds() > 1:
            print(f"  not captured from {_utc(gap_from)} to {_utc(gap_to)} UTC: the file skips it")
    return 0
