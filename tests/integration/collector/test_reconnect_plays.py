"""A reconnect or a crash inside a song: one play, whole, and no second counted twice.

Real music is cut into runs exactly as an agent cuts them, stored, matched and assembled by
the collector's own code on PostgreSQL and SQLite (:mod:`tests.support.airplay`). After a
crash (kill -9, a power cut) the agent has not saved where its last run ended, so the next
run's burst (Icecast's burst-on-connect: up to ~8 s; HLS: about three playlist segments)
repeats audio it had already sent, with other segment boundaries; the segment it was cutting
when it died is lost. A clean reconnect leaves a short gap instead, and an outage event.
What an analyst checks: the song is one play of the right recording, starting and ending
where it really does, its matched share counted once, and the station's monitored time is the
audio heard, not the sum of overlapping segments.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.fleet.models import Agent
from collector.ingest.service import store_upload
from collector.plays.draft import covered_seconds
from collector.reports import monitoring
from collector.reports.periods import parse_period
from collector.worker import close_quiet_plays
from shared.schemas import UploadV1
from tests.support.airplay import SONG_AT, SONG_OFFSET, SONG_S, T0, TOTAL_S, OnAir, at, radio, run, spans
from tests.support.payloads import upload

# runs of the agent in broadcast seconds: (first second, last second, ended by a crash)
SCENARIOS = {
    "one run": [(0.0, TOTAL_S, False)],
    # killed 7 s into a segment, back 3 s later with an 8-s burst: 5 s heard twice
    "icecast crash": [(0.0, 57.0, True), (45.0, TOTAL_S, False)],
    # HLS: the new run starts three 6-s playlist segments back, 16 s over the last full segment
    "hls crash": [(0.0, 64.0, True), (44.0, TOTAL_S, False)],
    # a clean reconnect: the run ends, 3 s are missed (an outage), a new run starts
    "reconnect gap": [(0.0, 60.0, False), (63.0, TOTAL_S, False)],
    # stopped cleanly near the song's end but the run's end was not saved (full disk): the
    # short last segment lies inside the next run's first one
    "unsaved stop": [(0.0, 95.0, False), (88.0, TOTAL_S, False)],
}


@pytest.fixture(scope="module")
def broadcast(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, np.ndarray]:
    return radio(tmp_path_factory.mktemp("radio"))


def _outage(factory, begin: float, end: float) -> None:  # type: ignore[no-untyped-def]
    """The outage the agent reports for a reconnect, through the upload path."""
    event = {"station": "rfm", "kind": "outage", "seq": 1, "start": at(begin).isoformat()}
    event |= {"end": at(end).isoformat(), "reason": "disconnected"}
    with transaction(factory) as s:
        agent = s.scalars(select(Agent)).one()
        store_upload(
            s, agent, UploadV1.model_validate(upload("box1", [], [event])), {"rfm": agent.stations[0].id}
        )


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_a_reconnect_inside_a_song_leaves_one_whole_play(
    database_url: str, broadcast: tuple[Path, np.ndarray], scenario: str
) -> None:
    song, audio = broadcast
    engine = make_engine(database_url)
    factory = make_sessionmaker(engine)
    try:
        station = OnAir(factory, song)
        heard: list[tuple[datetime, datetime]] = []
        runs = SCENARIOS[scenario]
        for n, (begin, end, crashed) in enumerate(runs):
            # each run's segments arrive, are matched and assembled, as the worker does them
            outs = run(audio, begin, end, crashed)
            station.receive(outs)
            heard += spans(outs)
            if not crashed and n + 1 < len(runs):
                _outage(factory, end, runs[n + 1][0])
            # the worker's sweep between runs: a reconnect never closes the play it interrupts
            assert close_quiet_plays(factory) == 0
        plays = station.plays()
        with factory() as s:
            activity = monitoring.activity_table(s, parse_period("2026-04-06", "UTC"), None)
    finally:
        engine.dispose()

    assert len(plays) == 1, [(p.start, p.end) for p in plays]
    play = plays[0]
    start, end = (play.start - T0).total_seconds(), (play.end - T0).total_seconds()
    # where the song really starts and ends, never shortened (the cut into the next music lets
    # its last values agree a little longer: an uninterrupted run ends the play 1.4 s late)
    assert abs(start - SONG_AT) < 1.0 and -0.5 < end - (SONG_AT + SONG_S) < 2.0, (start, end)
    assert abs(play.offset_start - SONG_OFFSET) < 1.0
    assert play.duration == pytest.approx(end - start)
    assert play.matched_fraction <= covered_seconds(heard, play.start, play.end) / play.duration + 1e-6
    # monitored time is the audio received, each second once
    monitored = activity.rows[0][3] * 3600
    assert monitored == pytest.approx(covered_seconds(heard, T0, at(3600)), abs=0.01)
