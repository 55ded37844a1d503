"""Reports on PostgreSQL and SQLite: totals recounted independently, files opened and read back."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from collector.catalog.models import Recording
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.fleet.models import Station
from collector.plays.models import Play
from collector.reports import distribution, monitoring, rollup, schedule
from collector.reports.models import AirtimeChange, AirtimeMonth, GeneratedReport
from collector.reports.periods import parse_period
from collector.settings import CollectorSettings
from tests.support.plays import RECORDINGS, WORKS, Seeded, add_event, add_play, add_segments, seed

JAN_START = datetime(2026, 1, 1, tzinfo=UTC)
FEB_START = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def db(database_url: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    with transaction(factory) as s:
        seeded = seed(s)
    settings = CollectorSettings(
        database_url=database_url, environment="test", report_dir=tmp_path / "reports"
    )
    yield factory, seeded, settings
    engine.dispose()


def _january_final(seeded: Seeded) -> list[tuple[str, str, datetime, datetime, float, str]]:
    return [p for p in seeded.plays if JAN_START <= p[2] < FEB_START and p[5] == "final"]


@pytest.mark.parametrize(
    ("period_text", "lo", "hi"),
    [
        ("2026-01", JAN_START, FEB_START),  # a whole month: read from the rollups
        (
            "2026-01-05..2026-01-20",
            datetime(2026, 1, 5, tzinfo=UTC),
            datetime(2026, 1, 21, tzinfo=UTC),
        ),  # plays
    ],
)
def test_airtime_matches_an_independent_recount(db, period_text: str, lo: datetime, hi: datetime) -> None:  # type: ignore[no-untyped-def]
    factory, seeded, settings = db
    plays = [p for p in seeded.plays if lo <= p[2] < hi and p[5] == "final"]
    assert any(p[5] == "open" and lo <= p[2] < hi for p in seeded.plays)  # excluded below
    by_rec: dict[str, list[float]] = defaultdict(list)
    stations_of: dict[str, set[str]] = defaultdict(set)
    by_rec_station: dict[tuple[str, str], list[float]] = defaultdict(list)
    for slug, ext, _s, _e, dur, _st in plays:
        by_rec[ext].append(dur)
        stations_of[ext].add(slug)
        by_rec_station[(ext, slug)].append(dur)
    period = parse_period(period_text, settings.timezone)
    with factory() as s:
        table = distribution.airtime_table(s, "recording", period, None)
        got = {r[0]: (r[6], r[7], r[8]) for r in table.rows}
        assert got.keys() == by_rec.keys()
        for ext, durs in by_rec.items():
            assert got[ext][0] == len(durs)
            assert got[ext][1] == pytest.approx(sum(durs))
            assert got[ext][2] == len(stations_of[ext])
        seconds = [r[7] for r in table.rows]
        assert seconds == sorted(seconds, reverse=True)

        pairs = distribution.airtime_table(s, "recording_station", period, None)
        assert {(r[0], r[4]): (r[5], pytest.approx(r[6])) for r in pairs.rows} == {
            k: (len(v), pytest.approx(sum(v))) for k, v in by_rec_station.items()
        }

        artists = {r[0]: (r[1], r[2]) for r in distribution.airtime_table(s, "artist", period, None).rows}
        expected: dict[str, list[float]] = defaultdict(list)
        meta = {
            ext: (artist, label)
            for ext, _t, artist, _i, label, _c in __import__("tests.support.plays").support.plays.RECORDINGS
        }
        for _slug, ext, _s, _e, dur, _st in plays:
            expected[meta[ext][0]].append(dur)
        assert {k: (n, pytest.approx(sec)) for k, (n, sec) in artists.items()} == {
            k: (len(v), pytest.approx(sum(v))) for k, v in expected.items()
        }
        labels = {r[0]: r[1] for r in distribution.airtime_table(s, "label", period, None).rows}
        exp_labels: dict[str, int] = defaultdict(int)
        for _slug, ext, *_rest in plays:
            exp_labels[meta[ext][1] or ""] += 1
        assert labels == exp_labels

        one = distribution.airtime_table(s, "station", period, [seeded.stations["sud"]])
        assert [r[0] for r in one.rows] == ["sud"]
        assert one.rows[0][2] == sum(1 for p in plays if p[0] == "sud")
        s.commit()


def test_rollup_is_used_only_when_current(db) -> None:  # type: ignore[no-untyped-def]
    factory, seeded, settings = db
    jan = parse_period("2026-01", settings.timezone)
    tz = settings.timezone
    now = datetime(2026, 3, 1, tzinfo=UTC)

    def totals() -> dict[str, tuple[int, float, int]]:
        with factory() as s:
            rows = distribution.airtime_table(s, "recording", jan, None).rows
        return {r[0]: (int(r[6]), round(float(r[7]), 3), int(r[8])) for r in rows}

    def recount() -> dict[str, tuple[int, float, int]]:
        with factory() as s:
            plays = s.execute(
                select(Play.recording_id, Play.station_id, Play.duration, Play.status, Play.start)
            )
            out: dict[str, list[Any]] = {}
            names = {v: k for k, v in seeded.recordings.items()}
            for rid, sid, dur, status, start in plays:
                if status == "final" and JAN_START <= start < FEB_START:
                    acc = out.setdefault(names[rid], [0, 0.0, set()])
                    acc[0] += 1
                    acc[1] += dur
                    acc[2].add(sid)
        return {k: (n, round(sec, 3), len(st)) for k, (n, sec, st) in out.items()}

    def rolled_up() -> dict[str, tuple[int, float, int]]:  # the rollup's own rows, nothing summed
        with factory() as s:
            rows = s.execute(
                select(Recording.external_id, AirtimeMonth.plays, AirtimeMonth.seconds, AirtimeMonth.stations)
                .join(Recording, Recording.id == AirtimeMonth.recording_id)
                .where(AirtimeMonth.month == "2026-01")
            )
            return {ext: (n, round(sec, 3), st) for ext, n, sec, st in rows}

    with factory() as s:  # nothing computed yet: each month from the first play's to the running one
        assert not rollup.is_current(s, "2026-01", tz)
        assert rollup.stale_months(s, tz, now) == ["2026-03", "2026-02", "2026-01", "2025-12"]
    assert totals() == recount()  # from the plays
    with transaction(factory) as s:
        assert rollup.maintain(s, tz, budget=5, now=now) == 4
    with factory() as s:
        assert rollup.is_current(s, "2026-01", tz) and rollup.stale_months(s, tz, now) == []
        assert not rollup.is_current(s, "2026-01", "Europe/Paris")  # computed in another zone
        assert rollup.stale_months(s, "Europe/Paris", now) == ["2026-03", "2026-02", "2026-01", "2025-12"]
    assert totals() == recount() == rolled_up()  # from the rollup

    with transaction(factory) as s:  # a late final play, an open play made final, a play deleted
        add_play(s, seeded, "zik", "SOD-0004", datetime(2026, 1, 20, 8, tzinfo=UTC), 10.0, "final")
        window = (Play.start >= JAN_START, Play.start < FEB_START)
        play = s.scalars(select(Play).where(Play.status == "open", *window)).first()
        assert play is not None
        play.status = "final"
        gone = s.scalars(select(Play).where(Play.status == "final", *window)).first()
        assert gone is not None
        s.delete(gone)
    assert totals() == recount() != rolled_up()  # at once: the changed recordings from the plays
    with transaction(factory) as s:
        assert rollup.maintain(s, tz, now=now) == 0  # folded; no month to compute
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(AirtimeChange)) == 0
    assert totals() == recount() == rolled_up()


def test_playlist_xlsx_and_pdf_say_what_was_played(db, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    factory, seeded, settings = db
    expected = sorted((p for p in _january_final(seeded) if p[0] == "rfm"), key=lambda p: p[2])
    catalog = {r[0]: r for r in RECORDINGS}
    with transaction(factory) as s:
        done = schedule.generate_period(s, settings, "2026-01", stations=["rfm"], include_global=False)
    assert sorted(r.name for r, _ in done) == [
        "2026-01/playlist-rfm-2026-01.pdf",
        "2026-01/playlist-rfm-2026-01.xlsx",
    ]

    wb = openpyxl.load_workbook(settings.report_dir / "2026-01/playlist-rfm-2026-01.xlsx")
    ws = wb["Relevé de diffusion"]
    values = [row for row in ws.iter_rows(values_only=True)]
    text = " ".join(str(v) for row in values for v in row if v is not None)
    assert "Africa/Dakar (UTC+00:00)" in text
    assert "Radio RFM (rfm)" in text
    # what a royalty analyst files: the catalog reference, ISRC, ISWC, composer and publisher
    header = values.index(
        (
            "Date",
            "Début",
            "Fin",
            "Durée diffusée",
            "Réf. catalogue",
            "Titre",
            "Artiste",
            "Compositeur",
            "Éditeur",
            "ISRC",
            "ISWC",
            "Label",
        )
    )
    rows = values[header + 1 : header + 1 + len(expected)]
    for row, (_slug, ext, start, end, dur, _st) in zip(rows, expected, strict=True):
        assert row[0].date() == start.date()  # openpyxl reads dates back as datetimes
        assert row[1] == start.time().replace(microsecond=0)
        assert row[2] == end.time().replace(microsecond=0)
        # a spreadsheet duration, shown h:mm:ss (openpyxl reads it back as a timedelta): the
        # seconds are all there
        assert row[3].total_seconds() == pytest.approx(dur, abs=0.001)
        assert row[4] == ext and row[5] == catalog[ext][1] and row[7] == catalog[ext][5]
        assert (row[10], row[8]) == WORKS[ext] and row[9] == catalog[ext][3]
    first_row = header + 2  # 1-based row numbers in the sheet
    assert ws.cell(first_row, 4).number_format == "[h]:mm:ss"
    # totals are formulas over exactly the rows above, which the analyst can check
    total = values[header + 1 + len(expected)]
    last_row = first_row + len(expected) - 1
    assert total[0] == "Total"
    assert total[3] == f"=SUM(D{first_row}:D{last_row})"
    assert sum(r[3].total_seconds() for r in rows) == pytest.approx(sum(p[4] for p in expected), abs=0.01)
    assert total[4] == f"=COUNTA(E{first_row}:E{last_row})"
    assert ws.cell(last_row + 1, 5).number_format == '0" diffusions"'
    # the first and last seconds of January are in, the first second of February is out
    assert rows[0][1] == time(0, 0, 0) and rows[-1][1] == time(23, 59, 0)

    path = settings.report_dir / "2026-01/playlist-rfm-2026-01.pdf"
    pdf = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Relevé de diffusion — Radio RFM — 2026-01" in pdf
    assert "Africa/Dakar" in pdf and "Compositeur" in pdf and "Éditeur" in pdf and "ISWC" in pdf
    assert "Yéen ñoo dëkk" in pdf and "Ŋoor" in pdf and "T-345.246.800-1" in pdf
    assert pdf.count("Dakar la nuit") == sum(1 for p in expected if p[1] == "SOD-0002")
    assert f"{len(expected)} diffusions" in pdf
    first = expected[0]
    assert (
        f"{first[4] // 3600:.0f}:{round(first[4]) % 3600 // 60:02d}:{round(first[4]) % 60:02d}" in pdf
    )  # h:mm:ss
    pages = int(re.search(r"Pages:\s+(\d+)", _pdfinfo(path))[1])  # type: ignore[index]
    assert f"Page 1 sur {pages}" in pdf and f"Page {pages} sur {pages}" in pdf
    # the PDF is dated at the end of the period, as the docs say (not 2000-01-01)
    assert re.search(r"CreationDate:\s+Sun Feb\s+1 00:00:00 2026 UTC", _pdfinfo(path)), _pdfinfo(path)

    with transaction(factory) as s:
        done = schedule.generate_period(
            s, settings, "2026-01", stations=["rfm"], include_global=False, lang="en"
        )
    pdf_en = subprocess.run(
        ["pdftotext", str(settings.report_dir / "2026-01/playlist-rfm-2026-01-en.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Broadcast playlist" in pdf_en and "Composer" in pdf_en and "Publisher" in pdf_en
    assert "Local times, time zone: Africa/Dakar (UTC+00:00)" in pdf_en
    assert f"Page 1 of {pages}" in pdf_en


def _pdfinfo(path: Path) -> str:
    env = {"PATH": "/usr/bin:/bin", "TZ": "UTC"}
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True, env=env).stdout


def test_regenerating_unchanged_data_gives_identical_bytes(db) -> None:  # type: ignore[no-untyped-def]
    factory, seeded, settings = db
    with transaction(factory) as s:
        first = {r.name: r.sha256 for r, _ in schedule.generate_period(s, settings, "2026-01")}
    files = {name: (settings.report_dir / name).read_bytes() for name in first}
    assert len(files) == 2 + 3 * 2
    with transaction(factory) as s:
        again = schedule.generate_period(s, settings, "2026-01")
    assert all(not changed for _r, changed in again)
    assert {name: (settings.report_dir / name).read_bytes() for name in first} == files
    # a late play changes the global reports and that station's playlists, nothing else
    with transaction(factory) as s:
        add_play(s, seeded, "zik", "SOD-0003", datetime(2026, 1, 15, 12, tzinfo=UTC), 99.0, "final")
    with transaction(factory) as s:
        changed = {r.name for r, c in schedule.generate_period(s, settings, "2026-01") if c}
    assert changed == {
        "2026-01/airtime-all-2026-01.xlsx",
        "2026-01/playlist-zik-2026-01.xlsx",
        "2026-01/playlist-zik-2026-01.pdf",
    }


def test_cli_generates_the_same_files(db, database_url: str) -> None:  # type: ignore[no-untyped-def]
    factory, _seeded, settings = db
    with transaction(factory) as s:
        api = {
            r.name: r.sha256
            for r, _ in schedule.generate_period(
                s, settings, "2026-01", stations=["sud"], include_global=False
            )
        }
    env = {
        "SODAV_COLLECTOR_DATABASE_URL": database_url,
        "SODAV_COLLECTOR_ENVIRONMENT": "test",
        "SODAV_COLLECTOR_REPORT_DIR": str(settings.report_dir),
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "collector.cli",
            "reports",
            "generate",
            "--period",
            "2026-01",
            "--station",
            "sud",
        ],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("unchanged") == 2
    bad = subprocess.run(
        [sys.executable, "-m", "collector.cli", "reports", "generate", "--period", "2026-13"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert bad.returncode == 2 and "month must be 01 to 12" in bad.stderr
    with factory() as s:
        assert {r.name: r.sha256 for r in s.scalars(select(GeneratedReport))} == api


def test_run_due_makes_last_month_and_semester_after_the_grace_delay(db) -> None:  # type: ignore[no-untyped-def]
    factory, _seeded, settings = db
    with factory() as s:
        early = schedule.due(s, settings, now=datetime(2026, 2, 1, 12, tzinfo=UTC))  # January: grace delay
        assert {d.period for d in early} == {"2025-S2"}
        due = schedule.due(s, settings, now=datetime(2026, 2, 2, 1, tzinfo=UTC))
    assert {(d.period, d.report, d.scope, d.fmt) for d in due} == {
        ("2026-01", "airtime", "all", "xlsx"),
        ("2026-01", "activity", "all", "xlsx"),
        *{("2026-01", "playlist", slug, fmt) for slug in ("rfm", "sud", "zik") for fmt in ("xlsx", "pdf")},
        ("2025-S2", "airtime", "all", "xlsx"),
        ("2025-S2", "activity", "all", "xlsx"),
        *{("2025-S2", "playlist", slug, "xlsx") for slug in ("rfm", "sud", "zik")},
    }
    now = datetime(2026, 2, 2, 1, tzinfo=UTC)
    made = 0
    while True:
        with transaction(factory) as s:
            n = schedule.run_due(s, settings, now=now, budget=4)
        if not n:
            break
        made += n
    assert made == len(due)
    with factory() as s:
        assert schedule.due(s, settings, now=now) == []


def test_a_new_collector_writes_no_empty_files(database_url: str, tmp_path: Path) -> None:
    """First start, no station yet: nothing is due; a station added in March gets March's
    files, not those of periods that ended before it existed."""
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    settings = CollectorSettings(database_url=database_url, environment="test", report_dir=tmp_path / "r")
    try:
        assert schedule.Ticker(settings).tick(factory) == 0  # was 1: an empty file for last month
        with factory() as s:
            assert schedule.due(s, settings, now=datetime(2026, 4, 2, tzinfo=UTC)) == []
        assert not (tmp_path / "r").exists()
        with transaction(factory) as s:
            s.add(Station(slug="new", name="New FM", created_at=datetime(2026, 3, 10, tzinfo=UTC)))
        with factory() as s:
            due = schedule.due(s, settings, now=datetime(2026, 4, 2, tzinfo=UTC))
            later = schedule.due(s, settings, now=datetime(2026, 7, 2, tzinfo=UTC))
    finally:
        engine.dispose()
    assert {(d.period, d.report, d.scope) for d in due} == {
        ("2026-03", "airtime", "all"),
        ("2026-03", "activity", "all"),
        ("2026-03", "playlist", "new"),
    }  # and nothing of 2025-S2, over before the station existed
    assert {d.period for d in later} == {"2026-06", "2026-S1"}


def test_activity_counts_a_station_from_when_it_existed(db) -> None:  # type: ignore[no-untyped-def]
    factory, seeded, settings = db
    with transaction(factory) as s:
        s.add(Station(slug="new", name="New FM", created_at=datetime(2026, 1, 16, tzinfo=UTC)))
        s.add(Station(slug="later", name="Later FM", created_at=datetime(2026, 3, 1, tzinfo=UTC)))
        # created in March to analyze January's recordings: it existed from its first audio
        aircheck = Station(slug="aircheck", name="Aircheck", created_at=datetime(2026, 3, 1, tzinfo=UTC))
        s.add(aircheck)
        s.flush()
        seeded.stations["aircheck"] = aircheck.id
        add_segments(s, seeded, "aircheck", datetime(2026, 1, 21, tzinfo=UTC), 360, "matched", -20.0)
    with factory() as s:
        rows = {
            r[0]: r
            for r in monitoring.activity_table(
                s, parse_period("2026-01", settings.timezone), None, now=datetime(2026, 3, 2, tzinfo=UTC)
            ).rows
        }
    assert set(rows) == {"rfm", "sud", "zik", "new", "aircheck"}  # not "later": no 0 % for January
    assert rows["rfm"][2] == pytest.approx(31 * 24)
    assert rows["new"][2] == pytest.approx(16 * 24) and rows["new"][4] == 0.0
    assert rows["aircheck"][2] == pytest.approx(11 * 24)
    assert rows["aircheck"][4] == pytest.approx(100 * 1 / (11 * 24))  # one hour heard in eleven days


def test_activity_and_unidentified_music(db) -> None:  # type: ignore[no-untyped-def]
    factory, seeded, settings = db
    day = datetime(2026, 1, 10, tzinfo=UTC)
    with transaction(factory) as s:
        add_segments(s, seeded, "rfm", day, 360, "matched", -20.0)  # 1 h heard and named
        add_segments(s, seeded, "rfm", day + timedelta(hours=1), 30, "unmatched", -18.0)  # 5 min music
        add_segments(s, seeded, "rfm", day + timedelta(hours=2), 12, "unmatched", -70.0)  # silence
        add_segments(s, seeded, "rfm", day + timedelta(hours=3), 6, "unmatched", None)  # level unknown
        add_segments(s, seeded, "rfm", datetime(2026, 2, 5, tzinfo=UTC), 6, "unmatched", -10.0)  # February
        add_event(s, seeded, "rfm", "outage", day + timedelta(hours=5), day + timedelta(hours=7))
        add_event(
            s, seeded, "rfm", "outage", datetime(2025, 12, 31, 23, tzinfo=UTC), JAN_START + timedelta(hours=1)
        )
        add_event(s, seeded, "rfm", "silence", day + timedelta(hours=8), day + timedelta(hours=8, minutes=30))
        add_event(s, seeded, "sud", "outage", datetime(2026, 1, 31, 23, tzinfo=UTC), None)  # still open
    period = parse_period("2026-01", settings.timezone)
    with factory() as s:
        rows = {
            r[0]: r
            for r in monitoring.activity_table(s, period, None, now=datetime(2026, 3, 1, tzinfo=UTC)).rows
        }
        summary, runs = monitoring.unidentified_tables(s, period, None)
    hours = 31 * 24
    assert rows["rfm"][2] == pytest.approx(hours)
    assert rows["rfm"][3] == pytest.approx((360 + 30 + 12 + 6) * 10 / 3600)
    assert rows["rfm"][4] == pytest.approx(100 * (408 * 10 / 3600) / hours)
    assert rows["rfm"][5:] == (
        2,
        pytest.approx(3.0),
        1,
        pytest.approx(0.5),
    )  # outage clipped to 1 h in January
    assert rows["sud"][5:7] == (1, pytest.approx(1.0))  # open outage counted to the end of the period
    assert rows["zik"][3:6] == (0.0, 0.0, 0)
    assert [r[:4] for r in summary.rows] == [("rfm", "Radio RFM", 36, pytest.approx(360 / 3600))]
    assert [(r[0], r[2], r[3], r[4], r[5]) for r in runs.rows] == [
        ("rfm", time(1, 0), time(1, 5), 300.0, 30),
        ("rfm", time(3, 0), time(3, 1), 60.0, 6),
    ]
    assert runs.rows[0][6] == pytest.approx(-18.0) and runs.rows[1][6] is None


def test_worker_ticker_does_one_step_at_a_time(db) -> None:  # type: ignore[no-untyped-def]
    factory, _seeded, settings = db
    ticker = schedule.Ticker(settings)
    with factory() as s:
        months = len(rollup.stale_months(s, settings.timezone))  # Dec 2025 to the running month
    assert ticker.tick(factory) == 2  # one rollup month, one due report file
    with factory() as s:
        files = s.scalars(select(GeneratedReport)).all()
        assert len(files) == 1 and (settings.report_dir / files[0].name).is_file()
        assert len(rollup.stale_months(s, settings.timezone)) == months - 1
    assert ticker.tick(factory) == 2  # work remains: straight back at it
    ticker.rollups_at = ticker.next_at = float("inf")  # nothing is due before the next check
    assert ticker.tick(factory) == 0
