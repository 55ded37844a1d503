"""``sodav-collector reports``: generate a period's report files now, or those that are due."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from collector.db.session import open_database
from collector.reports import schedule
from shared.progress import Progress


def _generate(args: argparse.Namespace) -> int:
    with (
        open_database(args.config) as db,
        db.transaction() as session,
        Progress("generating report files") as progress,
    ):
        done = schedule.generate_period(
            session,
            db.settings,
            args.period,
            stations=args.station or None if not args.global_only else [],
            include_global=not (args.stations_only or args.station),
            lang=args.lang,
            progress=progress,
        )
        progress.done()
        for record, changed in done:
            state = "written" if changed else "unchanged"
            print(f"{state:9}  {record.rows:>8} lines  {db.settings.report_dir / record.name}")
    print(f"{len(done)} report files for {args.period} in {db.settings.report_dir}", file=sys.stderr)
    return 0


def _run_due(args: argparse.Namespace) -> int:
    total = 0
    with open_database(args.config) as db, Progress("generating report files") as progress:
        with db.transaction() as session:
            due = len(schedule.due(session, db.settings))
        while True:
            with db.transaction() as session:
                done = schedule.run_due(session, db.settings, budget=10)
            total += done
            if not done:
                break
            progress(total, max(due, total), "due report files generated")
    print(f"{total} due report files generated in {db.settings.report_dir}")
    return 0


def register(sub: Any) -> None:
    reports = sub.add_parser("reports", help="monthly and semester report files (relevés, airtime, activity)")
    rsub = reports.add_subparsers(dest="reports_command", metavar="ACTION", required=True)
    p = rsub.add_parser(
        "generate",
        help="(re)generate a period's report files now; unchanged data gives identical files",
    )
    p.add_argument(
        "--period", required=True, help="2026-01 (month), 2026-S1 (semester), 2026, or a day range"
    )
    p.add_argument(
        "--station", action="append", help="only this station's playlists (repeatable; no global reports)"
    )
    group = p.add_mutually_exclusive_group()
    group.add_argument("--global-only", action="store_true", help="only the all-station reports")
    group.add_argument("--stations-only", action="store_true", help="only the per-station playlists")
    p.add_argument("--lang", choices=("fr", "en"), default="fr", help="language of the files (default fr)")
    p.set_defaults(func=_generate)
    p = rsub.add_parser("run-due", help="generate every file of finished months/semesters not yet made")
    p.set_defaults(func=_run_due)
