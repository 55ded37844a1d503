"""Every station's state with its latest play: the overview's rows, and the live feed's
``station_status`` events (the state is the fleet's, the play is ours)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from collector.fleet.service import station_statuses
from collector.plays import flags, repository
from collector.plays.views import last_play_json


def statuses_with_last_play(
    session: Session, offline_after: timedelta, now: datetime | None = None
) -> list[dict[str, Any]]:
    """Each station's derived state (:func:`collector.fleet.service.station_statuses`) and its
    latest play not flagged as a false positive, or None."""
    latest = {
        play.station_id: (play, rec)
        for play, rec in repository.latest_plays(session, flags.exclusion(session))
    }
    ids = repository.station_ids_by_slug(session)
    out = []
    for v in station_statuses(session, offline_after, now):
        found = latest.get(ids.get(v.station, -1))
        out.append(
            {
                "station": v.station,
                "name": v.name,
                "state": v.state,
                "since": v.since.isoformat() if v.since else None,
                "detail": v.detail,
                "level_dbfs": v.level_dbfs,
                "last_heartbeat_at": v.last_heartbeat_at.isoformat() if v.last_heartbeat_at else None,
                "last_play": last_play_json(*found) if found else None,
            }
        )
    return out
