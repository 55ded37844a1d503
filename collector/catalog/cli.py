"""``sodav-collector catalog import|list``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from collector.catalog.models import Recording
from collector.catalog.service import CatalogError, import_csv
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.migrate import upgrade
from collector.settings import load


class Progress:
    """One line on stderr, rewritten in place on a terminal, every ~10 % otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.last_pct = -10

    def __call__(self, n: int, total: int, label: str) -> None:
        pct = 100 * n // max(total, 1)
        eta = (time.monotonic() - self.t0) / max(n - 1, 1) * (total - n + 1) if n > 1 else 0
        line = f"[{pct:3d}%] {n}/{total} {label[:40]} (about {eta:.0f} s left)"
        if self.tty:
            print("\r" + line.ljust(79), end="", file=sys.stderr, flush=True)
        elif pct >= self.last_pct + 10 or n == total:
            print(line, file=sys.stderr, flush=True)
            self.last_pct = pct


def _import(args: argparse.Namespace) -> int:
    settings = load(args.config)
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    csv_path = Path(args.csv)
    if not csv_path.exists():
        print(f"sodav-collector: {csv_path} does not exist", file=sys.stderr)
        return 2
    with make_sessionmaker(engine)() as session:
        try:
            report = import_csv(session, csv_path, Progress(), commit=session.commit)
        except CatalogError as exc:
            print(f"sodav-collector: {exc}", file=sys.stderr)
            return 2
        session.commit()
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(
        f"catalog import: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.failed)} failed"
    )
    for line, ext, why in report.failed:
        print(f"  line {line} ({ext or 'no external_id'}): {why}", file=sys.stderr)
    engine.dispose()
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) else 0


def _list(args: argparse.Namespace) -> int:
    settings = load(args.config)
    engine = make_engine(settings.database_url)
    with make_sessionmaker(engine)() as s:
        total = s.scalar(select(func.count()).select_from(Recording))
        for rec in s.scalars(select(Recording).order_by(Recording.external_id).limit(args.limit)):
            print(f"{rec.external_id}\t{rec.artist} - {rec.title}\t{rec.isrc or ''}\t{rec.duration:.0f} s")
    print(f"{total} recording(s)", file=sys.stderr)
    engine.dispose()
    return 0


def register(sub: Any) -> None:
    cat = sub.add_parser("catalog", help="the society's reference recordings").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = cat.add_parser("import", help="fingerprint and import a catalog CSV (idempotent by external_id)")
    p.add_argument(
        "csv", help="columns path,external_id,title,artist[,isrc,iswc,album,label,composer,publisher,year]"
    )
    p.set_defaults(func=_import)
    p = cat.add_parser("list", help="list recordings")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_list)
