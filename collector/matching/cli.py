"""``sodav-collector segments quarantined|retry``: the segments the worker put aside, and why."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from collector.db.session import open_database
from collector.fleet import repository as fleet_repository
from collector.formats import iso_z, print_table
from collector.matching import repository


def _quarantined(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        total, segments = repository.quarantined(s, args.limit)
        agents = {a.id: a.name for a in fleet_repository.agents(s)}
        stations = {st.id: st.slug for st in fleet_repository.stations(s)}
        rows = [
            [
                str(seg.id),
                agents.get(seg.agent_id, "?"),
                stations.get(seg.station_id, "?"),
                str(seg.seq),
                iso_z(seg.start, "seconds"),
                seg.reason or "",
            ]
            for seg in segments
        ]
    print_table(rows, ["ID", "AGENT", "STATION", "SEQ", "START", "REASON"])
    shown = f" (the latest {len(rows)} shown)" if total > len(rows) else ""
    print(f"{total} quarantined segment(s){shown}", file=sys.stderr)
    return 0


def _retry(args: argparse.Namespace) -> int:
    if not args.all and not args.ids:
        print("sodav-collector: name segment ids (see `segments quarantined`), or --all", file=sys.stderr)
        return 2
    with open_database(args.config) as db, db.transaction() as s:
        n = repository.requeue(s, None if args.all else args.ids)
    print(f"{n} segment(s) back in the matching queue; the worker takes them at its next cycle")
    return 0


def register(sub: Any) -> None:
    seg = sub.add_parser("segments", help="segments the matching worker put aside").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = seg.add_parser("quarantined", help="list quarantined segments with the reason, latest first")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=_quarantined)
    p = seg.add_parser("retry", help="put quarantined segments back in the matching queue")
    p.add_argument("ids", nargs="*", type=int, metavar="ID", help="segment ids")
    p.add_argument("--all", action="store_true", help="every quarantined segment")
    p.set_defaults(func=_retry)
