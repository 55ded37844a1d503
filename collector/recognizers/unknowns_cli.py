"""``sodav-collector unknowns list|show|edit|accept|reject|merge|lookup``: the labelling queue from the
server's shell, with the same rules and audit trail as ``/api/v1/unknowns`` (the actor is
``cli:<unix user>``)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from collector.db.session import open_database
from collector.fleet.audit import cli_actor
from collector.formats import iso_z, print_table
from collector.recognizers import queue
from collector.recognizers.lookups import ask_again


def _list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        total, rows = queue.listing(s, args.state, args.limit)
        table = []
        for u in rows:
            c, best = u.cluster, (u.cluster.candidates or [{}])[0]
            named = f"{best.get('artist', '')} - {best.get('title', '')}" if best.get("title") else ""
            table.append(
                [
                    str(c.id),
                    f"{c.airtime_s / 60:.1f}",
                    str(c.spans),
                    ",".join(u.stations),
                    iso_z(c.first_seen, "seconds"),
                    iso_z(c.last_seen, "seconds"),
                    c.lookup,
                    c.decision or "",
                    named,
                ]
            )
    print_table(table, ["ID", "MIN", "SPANS", "STATIONS", "FIRST", "LAST", "LOOKUP", "DECISION", "CANDIDATE"])
    print(f"{total} cluster(s) ({args.state})", file=sys.stderr)
    return 0


def _show(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        data = queue.unknown(s, args.id).json()
        if args.excerpt:
            Path(args.excerpt).write_bytes(queue.excerpt_audio(s, args.id))
    for key, value in data.items():
        if key != "candidates":
            print(f"{key}: {value}")
    for cand in data["candidates"]:
        fields = ", ".join(f"{k}={v}" for k, v in cand.items() if v and k != "ids")
        print(f"candidate: {fields}")
    if args.excerpt:
        print(f"excerpt written to {args.excerpt}", file=sys.stderr)
    return 0


def _edit(args: argparse.Namespace) -> int:
    changes = {k: getattr(args, k) for k in queue.FIELDS if getattr(args, k) is not None}
    if not changes:
        print(
            "sodav-collector: give at least one of --title --artist --album --label --isrc ...",
            file=sys.stderr,
        )
        return 2
    with open_database(args.config) as db, db.transaction() as s:
        queue.edit(s, queue.cluster(s, args.id), changes, cli_actor())
    print(f"cluster {args.id}: metadata set; `sodav-collector unknowns accept {args.id}` to accept it")
    return 0


def _accept(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rec = queue.accept(s, queue.cluster(s, args.id), cli_actor())
        said = f"{rec.artist} - {rec.title} (recording {rec.id}, {rec.external_id})"
    print(f"cluster {args.id} accepted: {said}; its plays are matched at the worker's next cycle")
    return 0


def _reject(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        queue.reject(s, queue.cluster(s, args.id), args.reason, cli_actor())
    print(f"cluster {args.id} rejected ({args.reason})")
    return 0


def _merge(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        queue.merge(s, queue.cluster(s, args.id), queue.cluster(s, args.into), cli_actor())
    print(f"cluster {args.id} merged into cluster {args.into}")
    return 0


def _lookup(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        c = queue.cluster(s, args.id)
        ask_again(s, c)
        queue.record_ask(s, c, cli_actor())
    print(f"cluster {args.id}: looked up again at the worker's next pass (AcoustID, then AudD)")
    return 0


def register(sub: Any) -> None:
    unk = sub.add_parser("unknowns", help="the labelling queue: unknown music by song").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = unk.add_parser("list", help="clusters by airtime")
    p.add_argument("--state", choices=["open", "decided", "all"], default="open")
    p.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    p.set_defaults(func=_list)
    p = unk.add_parser("show", help="one cluster: stations, dates, lookups, candidates")
    p.add_argument("id", type=int)
    p.add_argument("--excerpt", metavar="FILE.ogg", help="write its excerpt audio here")
    p.set_defaults(func=_show)
    p = unk.add_parser("edit", help="set the metadata to accept")
    p.add_argument("id", type=int)
    for name in queue.FIELDS:
        p.add_argument(f"--{name.replace('_', '-')}", dest=name)
    p.set_defaults(func=_edit)
    p = unk.add_parser("accept", help="accept: the cluster becomes a catalog recording")
    p.add_argument("id", type=int)
    p.set_defaults(func=_accept)
    p = unk.add_parser("reject", help="reject: not music, or not in scope")
    p.add_argument("id", type=int)
    p.add_argument("--reason", choices=queue.REASONS, required=True)
    p.set_defaults(func=_reject)
    p = unk.add_parser("merge", help="merge a cluster into another of the same song")
    p.add_argument("id", type=int)
    p.add_argument("into", type=int)
    p.set_defaults(func=_merge)
    p = unk.add_parser("lookup", help="look a cluster up again (spends paid requests)")
    p.add_argument("id", type=int)
    p.set_defaults(func=_lookup)
