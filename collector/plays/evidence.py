"""Why the matcher believes a play: the segments behind it and how well each matched, where in
the recording, at what playback rate, which agent heard it, what the stream's ICY titles said,
and the reviewer's flag if any."""

from __future__ import annotations

from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from collector.catalog.models import Recording
from collector.errors import NotFound
from collector.formats import iso_z
from collector.plays import excerpts, flags, repository
from collector.plays.models import Play
from collector.plays.timeline import title_json, title_spans
from collector.plays.views import play_json


class PlayNotFound(NotFound):
    """No play has this id (an open play is rebuilt under a new id as segments arrive)."""


def get_play(session: Session, play_id: int) -> Play:
    play = session.get(Play, play_id)
    if play is None:
        raise PlayNotFound(
            f"no play {play_id}: an open play is rebuilt under a new id as audio arrives; "
            "list the plays again"
        )
    return play


def evidence(session: Session, play_id: int, tz: ZoneInfo) -> dict[str, Any]:
    found = repository.play_with_recording(session, play_id)
    if found is None:
        get_play(session, play_id)  # raises PlayNotFound
    assert found is not None
    play, rec, slug = found
    flag = flags.active_flags(session, [play]).get(play.id)
    rows = repository.play_segments(session, play.id)
    agents = Counter(seg.agent_id for _ps, seg in rows)
    names = repository.agent_names(session, list(agents))
    alt = session.get(Recording, play.alternate_recording_id) if play.alternate_recording_id else None
    return {
        "play": play_json(play, rec, slug, tz, flag),
        "recording_duration": rec.duration,
        "offset_start": round(play.offset_start, 3),
        "offset_end": round(play.offset_end, 3),
        "rate_ppm": play.rate_ppm,
        # a near-duplicate version (remaster, edit) the play also matched, less well over the play
        "alternate": (
            {"external_id": alt.external_id, "title": alt.title, "artist": alt.artist, "isrc": alt.isrc}
            if alt is not None
            else None
        ),
        "matched_fraction": round(play.matched_fraction, 4),
        "agent": names.get(agents.most_common(1)[0][0]) if agents else None,
        "segments": [
            {
                "id": seg.id,
                "start": iso_z(seg.start),
                "duration": seg.duration,
                "level_dbfs": seg.level_dbfs,
                "offset": round(ps.offset, 3),
                "score": round(ps.score, 4),
                "rate_ppm": ps.rate_ppm,
            }
            for ps, seg in rows
        ],
        "titles": [
            title_json(s, e, t) for s, e, t in title_spans(session, play.station_id, play.start, play.end)
        ],
        "excerpt": excerpts.info(session, play),
        "flag": flags.flag_json(flag),
    }
