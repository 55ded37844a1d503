"""``sodav-agent status``: queue depth, last upload, per-source state, drops."""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from datetime import UTC, datetime

from edge_agent.buffer.outbox import Outbox
from edge_agent.config import load
from edge_agent.heartbeat import CLOCK_WARN_MS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def _ago(t: datetime | None) -> str:
    if t is None:
        return "never"
    s = (datetime.now(UTC) - t).total_seconds()
    return f"{t.isoformat(timespec='seconds')} ({s / 60:.0f} min ago)" if s >= 120 else f"{s:.0f} s ago"


def run(args: argparse.Namespace) -> int:
    settings = load(args.config)
    if not settings.outbox_path.exists():
        print(
            f"no outbox at {settings.outbox_path}: the agent has not run yet (`systemctl start sodav-agent`)"
        )
        return 1
    try:
        outbox = Outbox(settings.outbox_path)
    except sqlite3.OperationalError as exc:  # e.g. a file this user may read but not open for writing
        print(
            f"sodav-agent: cannot open {settings.outbox_path} ({exc}) as this user; run it as root "
            "(sudo sodav-agent status)",
            file=sys.stderr,
        )
        return 1
    try:
        st = outbox.stats()
        sources = outbox.get_state("sources", [])
        hb = outbox.get_state("last_heartbeat")
        upload_error = outbox.get_state("upload_error")
        clock = outbox.get_state("clock_offset")
    finally:
        outbox.close()
    if args.json:
        print(
            json.dumps(
                {
                    "queue_depth": st.queue_depth,
                    "queued_events": st.queued_events,
                    "oldest_queued": st.oldest_queued.isoformat() if st.oldest_queued else None,
                    "last_upload": st.last_upload.isoformat() if st.last_upload else None,
                    "parked": st.parked,
                    "parked_reasons": st.parked_reasons,
                    "dropped_excerpts": st.dropped_excerpts,
                    "dropped_fingerprints": st.dropped_fingerprints,
                    "sources": sources,
                    "last_heartbeat": hb,
                    "upload_error": upload_error,
                    "clock_offset": clock,
                },
                indent=2,
            )
        )
        return 0
    print(f"agent      {settings.name or '(not enrolled)'}  ->  {settings.collector.url or '(no collector)'}")
    print(f"queue      {st.queue_depth} segments, {st.queued_events} events; oldest {_ago(st.oldest_queued)}")
    print(f"last upload {_ago(st.last_upload)}")
    if upload_error:
        since = datetime.fromisoformat(upload_error["since"])
        unreachable = upload_error.get("kind") == "unreachable"
        print(
            f"collector  {'UNREACHABLE' if unreachable else 'UPLOADS FAILING'} since {_ago(since)}: "
            f"{upload_error['message']}"
        )
        if unreachable:
            print("           uploads are retried; check the network (phone link, DNS) and collector.url")
    if st.parked:
        print(f"PARKED     {st.parked} row(s) refused by the collector: {'; '.join(st.parked_reasons)}")
        print("           fix the cause (token, station assignment), then restart the agent")
    if st.dropped_excerpts or st.dropped_fingerprints:
        print(
            f"dropped    {st.dropped_excerpts} excerpt(s), {st.dropped_fingerprints} fingerprint segment(s) "
            "(disk budget)"
        )
    if clock:
        ahead = -float(clock["ms"]) / 1000.0  # this box's clock minus the collector's
        ok = abs(ahead) * 1000.0 <= CLOCK_WARN_MS  # the bound the daemon's warning uses
        verdict = "OK" if ok else "WRONG: play times come from this clock, fix time sync"
        print(f"clock      {ahead:+.1f} s against the collector ({verdict}; measured {clock['at'][:19]})")
    print(f"disk       {st.db_bytes / 1e6:.1f} MB outbox")
    for s in sources:
        level = f"{s['level_dbfs']:.1f} dBFS" if s.get("level_dbfs") is not None else "-"
        line = f"  {s['station']:<20} {s['state']:<10} since {s['since'][:19]}  {level}"
        if s.get("icy_title"):
            line += f"  «{s['icy_title']}»"
        if s.get("detail"):
            line += f"  ({s['detail']})"
        print(line)
    if not sources:
        print("  no source state yet (is `sodav-agent run` running?)")
    return 0
