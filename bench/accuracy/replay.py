"""Play assembly again on a finished run's stored segments and matches: no audio decoded.

    python -m bench.accuracy.replay --out /tmp/acc8 --name final --as replay [--profiles receiver,teasers]

For each station of ``--out`` that ``bench.accuracy.run --name NAME`` analysed, copies its
``collector-NAME.db`` to ``collector-AS.db`` (migrated to the current schema), deletes the
plays and assembles them again from the stored segments and matches with the code checked out now (the same
:func:`collector.plays.service.rebuild_plays` that ``analyze`` and the live worker call), writes
``plays-AS.csv`` as ``analyze`` does, and prints the accuracy table. What it cannot show: a
change to fingerprinting or to the matcher's own search, which only a run of
``bench.accuracy.run --reuse`` (audio decoded again) measures.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import time
from pathlib import Path

from sqlalchemy import delete, select

from bench.accuracy.radio import PROFILES
from bench.accuracy.run import T0, read_plays, row
from bench.accuracy.score import Interval, score
from collector.analyze import CSV_COLUMNS, _csv_row
from collector.db.session import open_database
from collector.fleet.models import Station
from collector.matching.catalog import load_catalog
from collector.plays.models import Play, PlayFlag, PlaySegment
from collector.plays.repository import plays_with_recordings
from collector.plays.service import rebuild_plays
from collector.reports.exports import csv_lines

END = T0.replace(year=2030)


def replay(sdir: Path, name: str, as_name: str) -> float:
    """Reassemble one station's plays into ``plays-AS.csv``; returns the seconds it took."""
    db = sdir / f"collector-{as_name}.db"
    shutil.copyfile(sdir / f"collector-{name}.db", db)
    os.environ["SODAV_COLLECTOR_DATABASE_URL"] = f"sqlite:///{db}"
    # the copy, never the run's own database, is brought to the schema of the code checked out
    with open_database(None, migrate=True) as database, database.sessions() as session:
        for model in (PlayFlag, PlaySegment, Play):
            session.execute(delete(model))
        station = session.scalars(select(Station).where(Station.slug == sdir.name)).one()
        catalog = load_catalog(session)
        t = time.monotonic()
        rebuild_plays(session, catalog, station.id, T0, final_all=True)
        took = time.monotonic() - t
        session.commit()
        rows = [
            _csv_row(sdir.name, play, rec)
            for play, rec in plays_with_recordings(session, station.id, T0, END)
        ]
    with (sdir / f"plays-{as_name}.csv").open("w", newline="", encoding="utf-8") as fh:
        for chunk in csv_lines(CSV_COLUMNS, rows):
            fh.write(chunk)
    return took


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.accuracy.replay", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="a bench.accuracy.run work directory")
    p.add_argument("--name", default="results", help="the run's name (its collector-NAME.db)")
    p.add_argument("--as", dest="as_name", default="replay", help="name of the replay's files")
    p.add_argument("--profiles", default=",".join(pr.name for pr in PROFILES))
    args = p.parse_args(argv)
    print(
        "| station profile | system | true plays | detected | recall | precision "
        "| start err median / p90 (s) | end err median / p90 (s) | airtime ratio | meets targets |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    missing = []
    for profile in args.profiles.split(","):
        sdir = args.out / profile
        if not (sdir / f"collector-{args.name}.db").exists():
            missing.append(profile)
            continue
        took = replay(sdir, args.name, args.as_name)
        with (sdir / "truth.csv").open(newline="") as fh:
            truth = [
                Interval(r["external_id"], float(r["start_s"]), float(r["end_s"]))
                for r in csv.DictReader(fh)
                if r["kind"] == "song"
            ]
        s = score(truth, read_plays(sdir / f"plays-{args.as_name}.csv"))
        print(row(profile, f"play assembly replayed ({took:.0f} s)", s), flush=True)
        for m in s.misses:
            print(f"  missed {m}")
        for f in s.false:
            print(f"  false {f}")
    if missing:
        print(
            f"no collector-{args.name}.db for {', '.join(missing)} in {args.out}: "
            "run bench.accuracy.run first"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
