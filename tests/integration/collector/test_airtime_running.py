"""The running month's airtime on PostgreSQL and SQLite: read from its rollup, it equals the plain
sum of the plays after every kind of change, at once (before the worker folds the change), at
the local day and month edges, in Dakar and in a zone far from UTC."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from collector.catalog.models import Recording
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.plays import flags
from collector.plays.models import Play, PlayFlag
from collector.reports import distribution, rollup
from collector.reports.models import AirtimeChange, AirtimeMonth
from collector.reports.periods import parse_period
from tests.support.plays import Seeded, add_play, seed

Totals = dict[str, tuple[int, float, int]]


@pytest.fixture
def factory(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _recount(s: Session, tz: str, month: str) -> Totals:
    """Final plays starting in the local month, none an active flag covers, by recording."""
    names = {rid: ext for rid, ext in s.execute(select(Recording.id, Recording.external_id))}
    active = s.scalars(select(PlayFlag).where(PlayFlag.cleared_at.is_(None))).all()
    acc: dict[str, list[object]] = defaultdict(lambda: [0, 0.0, set()])
    for p in s.scalars(select(Play).where(Play.status == "final")):
        local = p.start.astimezone(ZoneInfo(tz))
        if f"{local.year:04d}-{local.month:02d}" != month:
            continue
        covered = any(
            f.station_id == p.station_id
            and f.recording_id == p.recording_id
            and f.start < p.end
            and f.end > p.start
            for f in active
        )
        if not covered:
            a = acc[names[p.recording_id]]
            a[0] += 1  # type: ignore[operator]
            a[1] += p.duration  # type: ignore[operator]
            a[2].add(p.station_id)  # type: ignore[attr-defined]
    return {k: (n, round(sec, 3), len(st)) for k, (n, sec, st) in acc.items()}  # type: ignore[misc, arg-type]


def _report(s: Session, tz: str, month: str) -> Totals:
    rows = distribution.airtime_table(s, "recording", parse_period(month, tz), None).rows
    return {r[0]: (int(r[6]), round(float(r[7]), 3), int(r[8])) for r in rows}


def _rolled_up(s: Session, month: str) -> Totals:
    rows = s.execute(
        select(Recording.external_id, AirtimeMonth.plays, AirtimeMonth.seconds, AirtimeMonth.stations)
        .join(Recording, Recording.id == AirtimeMonth.recording_id)
        .where(AirtimeMonth.month == month)
    )
    return {ext: (n, round(sec, 3), st) for ext, n, sec, st in rows}


@pytest.mark.parametrize("tz", ["Africa/Dakar", "Pacific/Auckland"])  # UTC+0; UTC+13 in March
def test_running_month_equals_the_plays_after_every_change(
    factory: sessionmaker[Session], tz: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    zone = ZoneInfo(tz)

    def at(day: int, hour: int = 0, minute: int = 0, second: int = 0, month: int = 3) -> datetime:
        return datetime(2026, month, day, hour, minute, second, tzinfo=zone).astimezone(UTC)

    now = at(11, 12)  # March is running; today is the 11th, local time
    with transaction(factory) as s:
        out: Seeded = seed(s)
        # the local edges: the month's first second, the day before, midnight on the 10th/11th
        add_play(s, out, "rfm", "SOD-0001", at(28, 23, 59, 30, month=2), 60.0, "final")
        add_play(s, out, "rfm", "SOD-0001", at(1), 60.0, "final")
        add_play(s, out, "sud", "SOD-0002", at(10, 23, 58), 120.0, "final")
        add_play(s, out, "zik", "SOD-0002", at(11), 90.0, "final")
        add_play(s, out, "zik", "SOD-0003", at(11, 0, 30), 50.0, "open")

    def check(folded: bool = False) -> Totals:
        with factory() as s:
            expected = _recount(s, tz, "2026-03")
            assert _report(s, tz, "2026-03") == expected
            assert _report(s, tz, "2026-02") == _recount(s, tz, "2026-02")
            if folded:  # the rollup's rows themselves, nothing summed from the plays
                assert s.scalar(select(func.count()).select_from(AirtimeChange)) == 0
                assert _rolled_up(s, "2026-03") == expected
        return expected

    check()  # no rollup yet: summed from the plays
    with transaction(factory) as s:
        assert rollup.stale_months(s, tz, now)[:2] == ["2026-03", "2026-02"]  # the running month first
        rollup.maintain(s, tz, budget=10, now=now)
        assert rollup.is_current(s, "2026-03", tz) and rollup.stale_months(s, tz, now) == []
    first = check(folded=True)
    assert first["SOD-0001"][0] >= 1 and first["SOD-0002"][2] == 2

    with transaction(factory) as s:  # inserts across today's local midnight
        add_play(s, out, "sud", "SOD-0004", at(10, 23, 59, 59), 30.0, "final")
        add_play(s, out, "rfm", "SOD-0004", at(11, 0, 0, 1), 40.0, "final")
    assert check()["SOD-0004"] == (2, 70.0, 2)

    with transaction(factory) as s:  # edits: another recording, over the month's edge, longer, final
        p = s.scalars(select(Play).where(Play.start == at(11), Play.status == "final")).one()
        p.recording_id = out.recordings["SOD-0003"]
        q = s.scalars(select(Play).where(Play.start == at(1))).one()
        q.start, q.end = at(28, 23, 0, month=2), at(28, 23, 1, month=2)
        r = s.scalars(select(Play).where(Play.start == at(10, 23, 58))).one()
        r.duration, r.end = 180.0, r.start + timedelta(seconds=180)
        o = s.scalars(select(Play).where(Play.status == "open", Play.start == at(11, 0, 30))).one()
        o.status = "final"
    check()

    with transaction(factory) as s:  # a delete, and a play moved into the month from February
        s.delete(s.scalars(select(Play).where(Play.start == at(10, 23, 59, 59))).one())
        m = s.scalars(select(Play).where(Play.start == at(28, 23, 59, 30, month=2))).one()
        m.start, m.end = at(1, 0, 0, 30), at(1, 0, 1, 30)
    check()

    with transaction(factory) as s:  # a reviewer flags a play, then clears it
        flagged = s.scalars(select(Play).where(Play.start == at(11, 0, 0, 1))).one()
        flags.set_flag(s, flagged, "a jingle", "moussa", now)
    assert "SOD-0004" not in check()
    with transaction(factory) as s:
        flags.clear_flag(s, s.scalars(select(Play).where(Play.start == at(11, 0, 0, 1))).one(), "moussa", now)
    assert check()["SOD-0004"] == (1, 40.0, 1)
    with transaction(factory) as s:  # flagged again, and the flag deleted outright (a forgotten song)
        flags.set_flag(
            s, s.scalars(select(Play).where(Play.start == at(11, 0, 0, 1))).one(), "x", "moussa", now
        )
    check()
    with transaction(factory) as s:
        s.execute(delete(PlayFlag))
    check()

    with transaction(factory) as s:  # the worker folds the log: the rollup itself is right again
        assert rollup.fold(s, tz) > 0
    check(folded=True)
    with transaction(factory) as s:  # and a change after the fold shows at once again
        add_play(s, out, "zik", "SOD-0001", at(11, 11, 59), 200.0, "final")
    assert check() != first
    for postgres in (True, False):  # too many changed recordings to name: the plays are summed
        monkeypatch.setitem(rollup.MAX_CHANGED, postgres, 0)
    check()
