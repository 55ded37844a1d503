"""``sodav-collector recognizers status|test|reset``: what the paid services cost, whether
they answer, and closing a breaker after the cause is fixed."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from collector.audio import decode_file
from collector.db.session import open_database
from collector.errors import InvalidRequest
from collector.recognizers import gate
from collector.recognizers.clip import AUDD_MAX_SECONDS
from collector.recognizers.models import SERVICES
from collector.recognizers.outcomes import Named, NotFound, Outcome
from collector.recognizers.service import Recognizers, ServiceStatus, status
from shared.audio import AudioError
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm

ACOUSTID_SECONDS = 120  # what fpcalc and pyacoustid fingerprint of a file (MAX_AUDIO_LENGTH)


def _state(st: ServiceStatus) -> str:
    if not st.configured:
        return "off (no key)"
    if st.breaker_open:
        assert st.breaker_open_until is not None
        return f"STOPPED until {st.breaker_open_until:%Y-%m-%d %H:%M} UTC"
    return "on"


def _status(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = status(s, db.settings)
    day = datetime.now(UTC)
    print(f"recognizers on {day:%Y-%m-%d} (UTC), month {day:%Y-%m}")
    header = ["SERVICE", "STATE", "TODAY", "BUDGET LEFT", "MONTH", "MONTH COST"]
    table = [
        [
            st.service,
            _state(st),
            str(st.requests_today),
            f"{st.budget_left}/{st.budget}",
            str(st.month_requests),
            f"${st.month_cost_usd:,.2f} (at ${st.usd_per_1000:g}/1000)",
        ]
        for st in rows
    ]
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header))]
    for row in [header, *table]:
        print("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    for st in rows:
        if st.today:
            print(f"  {st.service} today: " + ", ".join(f"{k} {v}" for k, v in sorted(st.today.items())))
        if st.breaker_open:
            print(f"  {st.service} stopped: {st.breaker_reason}")
            print(f"    fix the cause, then: sodav-collector recognizers reset {st.service}")
    return 0


def _say(service: str, outcome: Outcome) -> None:
    if isinstance(outcome, Named):
        for c in outcome.candidates[:5]:
            extra = [
                f"{k} {v}"
                for k, v in (
                    ("album", c.album),
                    ("label", c.label),
                    ("released", c.release_date),
                    ("ISRC", c.isrc),
                    ("at", c.timecode),
                    ("score", f"{c.score:.2f}" if c.score is not None else None),
                )
                if v
            ]
            print(f"{service}: named {c.artist} - {c.title}" + (f" ({', '.join(extra)})" if extra else ""))
    elif isinstance(outcome, NotFound):
        print(f"{service}: answered, does not know this audio ({outcome.why})")
    else:
        print(f"{service}: {outcome.kind}: {outcome.why}")


def _test(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise InvalidRequest(f"{path} is not a file: give an audio file (mp3, ogg, wav, ...)")
    with open_database(args.config) as db:
        with Recognizers(db.settings, db.sessions) as rec:
            wanted = SERVICES if args.service == "all" else (args.service,)
            if all(getattr(rec, s) is None for s in wanted):
                raise InvalidRequest(
                    "no recognizer has a key: set recognizers.acoustid_key_file and/or "
                    "recognizers.audd_token_file (docs/ops/collector.md)"
                )
            try:
                pcm = decode_file(path)
            except AudioError as exc:
                raise InvalidRequest(f"cannot read the audio: {exc}") from exc
            duration = pcm.size / CHROMAPRINT_RATE
            answered = True
            if "acoustid" in wanted:
                values = fingerprint_pcm(pcm[: ACOUSTID_SECONDS * CHROMAPRINT_RATE], CHROMAPRINT_RATE)
                outcome = rec.acoustid_lookup([int(v) for v in values], duration)
                _say("AcoustID", outcome)
                answered &= isinstance(outcome, Named | NotFound)
            if "audd" in wanted:
                start = (
                    args.start if args.start is not None else max(0.0, duration / 2 - AUDD_MAX_SECONDS / 2)
                )
                if not 0 <= start < duration:
                    raise InvalidRequest(f"--start {start:g}: the file lasts {duration:.1f} s")
                outcome = rec.audd_recognize(path, start)
                _say("AudD", outcome)
                answered &= isinstance(outcome, Named | NotFound)
    return 0 if answered else 1


def _reset(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        was_open = gate.reset(s, args.service)
    print(f"{args.service}: breaker {'closed' if was_open else 'was not open'}; lookups resume")
    return 0


def register(sub: Any) -> None:
    rec = sub.add_parser(
        "recognizers", help="AcoustID and AudD: cost, budget, breaker, a test"
    ).add_subparsers(dest="action", metavar="ACTION", required=True)
    p = rec.add_parser("status", help="requests today, budget left, breaker, the month's cost")
    p.set_defaults(func=_status)
    p = rec.add_parser("test", help="ask the configured services about an audio file (spends requests)")
    p.add_argument("file", help="an audio file; AcoustID gets its first 120 s, AudD 12 s")
    p.add_argument("--service", choices=[*SERVICES, "all"], default="all")
    p.add_argument("--start", type=float, help="where AudD's 12 s begin, in seconds (default: the middle)")
    p.set_defaults(func=_test)
    p = rec.add_parser("reset", help="close a service's breaker once the cause is fixed")
    p.add_argument("service", choices=SERVICES)
    p.set_defaults(func=_reset)
