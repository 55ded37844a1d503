"""``sodav-collector catalog import|list``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from collector.catalog import repository
from collector.catalog.service import CatalogError, import_csv
from collector.db.session import open_database
from shared.progress import Progress


def _import(args: argparse.Namespace) -> int:
    csv_path = Path(args.csv)
    with open_database(args.config, migrate=True) as db, db.transaction() as session:
        if not csv_path.exists():
            raise CatalogError(f"{csv_path} does not exist")
        with Progress("importing the catalog") as progress:
            report = import_csv(session, csv_path, progress, commit=session.commit)
    print(
        f"catalog import: {report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.failed)} failed"
    )
    for line, ext, why in report.failed:
        print(f"  line {line} ({ext or 'no external_id'}): {why}", file=sys.stderr)
    return 1 if report.failed and not (report.added or report.updated or report.unchanged) else 0


def _list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        total = repository.count(s)
        for rec in repository.first(s, args.limit):
            print(f"{rec.external_id}\t{rec.artist} - {rec.title}\t{rec.isrc or ''}\t{rec.duration:.0f} s")
    print(f"{total} recording(s)", file=sys.stderr)
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
