"""Reviewers' false-positive flags: set, clear, find, and leave flagged plays out of reports.

A flag covers the plays of its station and recording that overlap the span it was set on
(:class:`~collector.plays.models.PlayFlag` says why not the play's id). While it is active
(not cleared) those plays are left out of every distribution report, airtime and rollup
(:func:`exclusion`); clearing it brings them back. Either way a database trigger (migration
0012) logs the change, so the monthly airtime rollups count the plays again at once.
Services never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import Session

from collector.formats import iso_z
from collector.plays.models import Play, PlayFlag

REASON_MAX = 500


def _covers(flag: type[PlayFlag], play: type[Play] | Play) -> ColumnElement[bool]:
    return and_(
        flag.station_id == play.station_id,
        flag.recording_id == play.recording_id,
        flag.start < play.end,
        flag.end > play.start,
    )


def flagged() -> ColumnElement[bool]:
    """True for a play an active flag covers (for ``WHERE`` on ``plays``)."""
    return exists().where(_covers(PlayFlag, Play), PlayFlag.cleared_at.is_(None))


def exclusion(session: Session) -> list[ColumnElement[bool]]:
    """The conditions that leave flagged plays out of a query on ``plays``: none at all while no
    flag is active, so the reports keep their index-only scans in the usual case."""
    if session.scalar(select(exists().where(PlayFlag.cleared_at.is_(None)))):
        return [~flagged()]
    return []


def active_flags(session: Session, plays: Sequence[Play]) -> dict[int, PlayFlag]:
    """The active flag covering each of ``plays`` that has one, by play id (one query)."""
    if not plays:
        return {}
    stations = {p.station_id for p in plays}
    recordings = {p.recording_id for p in plays}
    rows = session.scalars(
        select(PlayFlag)
        .where(
            PlayFlag.cleared_at.is_(None),
            PlayFlag.station_id.in_(stations),
            PlayFlag.recording_id.in_(recordings),
            PlayFlag.start < max(p.end for p in plays),
            PlayFlag.end > min(p.start for p in plays),
        )
        .order_by(PlayFlag.flagged_at)
    ).all()
    out: dict[int, PlayFlag] = {}
    for play in plays:
        for flag in rows:  # the latest covering flag wins
            if (
                flag.station_id == play.station_id
                and flag.recording_id == play.recording_id
                and flag.start < play.end
                and flag.end > play.start
            ):
                out[play.id] = flag
    return out


def _active_on(session: Session, play: Play) -> list[PlayFlag]:
    return list(
        session.scalars(select(PlayFlag).where(PlayFlag.cleared_at.is_(None), _covers(PlayFlag, play)))
    )


def set_flag(session: Session, play: Play, reason: str, by: str, now: datetime | None = None) -> PlayFlag:
    """Flag ``play`` as a false positive; a flag already on it is cleared (kept as history) and
    replaced, so reason, author and time are the new ones."""
    now = now or datetime.now(UTC)
    clear_flag(session, play, by, now)
    flag = PlayFlag(
        play_id=play.id,
        station_id=play.station_id,
        recording_id=play.recording_id,
        start=play.start,
        end=play.end,
        reason=reason.strip()[:REASON_MAX],
        flagged_by=by,
        flagged_at=now,
    )
    session.add(flag)
    session.flush()
    return flag


def clear_flag(session: Session, play: Play, by: str, now: datetime | None = None) -> int:
    """Clear every active flag on ``play``; return how many there were."""
    now = now or datetime.now(UTC)
    flags = _active_on(session, play)
    for flag in flags:
        flag.cleared_by, flag.cleared_at = by, now
    session.flush()
    return len(flags)


def changed_since(session: Session, since: datetime) -> list[PlayFlag]:
    """Flags set or cleared after ``since`` (the live feed turns them into play events)."""
    return list(
        session.scalars(select(PlayFlag).where(or_(PlayFlag.flagged_at > since, PlayFlag.cleared_at > since)))
    )


def flag_json(flag: PlayFlag | None) -> dict[str, str] | None:
    if flag is None:
        return None
    return {"reason": flag.reason, "by": flag.flagged_by, "at": iso_z(flag.flagged_at)}
