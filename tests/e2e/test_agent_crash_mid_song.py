"""The agent killed (kill -9) in the middle of a song on an Icecast stream, and started again.

A real Icecast that bursts 16 s of buffered audio to every new listener, fed in real time
from a known instant with other music, a catalog song, other music; a real ``sodav-agent
run`` uploading to a real ``sodav-collector serve`` whose worker matches as segments arrive,
on PostgreSQL and SQLite. The agent dies right after finishing a segment, without a word, so
it cannot save where its run ended: the restarted agent's burst repeats audio it had already
sent. What an analyst then sees: the song is one play, where it aired, as long as it aired;
when the stream ends the play becomes final; the station's monitored time counts each second
of audio once.
"""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.ingest.models import Segment
from collector.plays.draft import covered_seconds
from collector.plays.models import Play
from collector.reports import monitoring
from collector.reports.periods import parse_period
from tests.fixtures.collector import Collector
from tests.fixtures.streams import icecast
from tests.support.agentproc import AgentProcess, agent_config, wait_for
from tests.support.audio import concat, excerpt, track

pytestmark = [pytest.mark.slow, pytest.mark.timeout(360)]

# bytes: 16.4 s of the 128 kbit/s stream. Stations often burst 8 s; the restarted agent needs
# a few seconds to start and connect (9 s seen on a loaded machine), and only a burst longer
# than that repeats audio it had sent, which is the case under test
BURST = 262144
SONG_AT, SONG_S = 20.0, 70.0  # the song airs from this second of the programme, this long


def _programme(tmp: Path) -> tuple[Path, Path]:
    """The catalog recording, and the programme: 20 s of other music, 70 s of it, 10 s more."""
    song = excerpt(track(2), tmp / "song.mp3", 0, 120)
    parts = [
        excerpt(track(9), tmp / "before.mp3", 30, SONG_AT),
        excerpt(track(2), tmp / "heard.mp3", 10, SONG_S),
        excerpt(track(9), tmp / "after.mp3", 60, 10),
    ]
    return song, concat(parts, tmp / "programme.mp3")


def _segments(c: Collector) -> list[Segment]:
    with c.session() as s:
        return list(s.scalars(select(Segment).order_by(Segment.start)))


# the agent's crash and the collector's dedupe of the audio resent; on the production database
# (the same queries run on SQLite in test_agent_to_collector's restarts)
@pytest.mark.backends("postgresql")
def test_kill_9_mid_song_and_restart_leaves_one_final_play(database_url: str, tmp_path: Path) -> None:
    song, programme = _programme(tmp_path)
    c = Collector(database_url, tmp_path / "collector", extra_env={"SODAV_COLLECTOR_WORKER__ENABLED": "true"})
    (tmp_path / "collector").mkdir()
    c.start()
    agent: AgentProcess | None = None
    try:
        c.add_station("ice")
        token = c.add_agent("box1", ["ice"])
        with transaction(c.tx) as s:
            upsert_recording(s, "SOD-0001", song, {"title": "Song", "artist": "Band"})
        with icecast(tmp_path / "ice", burst_size=BURST) as ice:
            ice.feed(programme, "live.mp3", loop=False)
            fed_at, up_at = ice.fed_at["live.mp3"], ice.up_at["live.mp3"]
            config = agent_config(
                tmp_path / "agent", "box1", c.url, token, {"ice": ice.url("live.mp3")}, segment_seconds=10
            )
            wait_for(lambda: (datetime.now(fed_at.tzinfo) - fed_at).total_seconds() > 12, 20, "the burst")
            agent = AgentProcess(config).start()
            # 30 s into the song, just after a segment is cut: no clean stop, nothing saved
            wait_for(lambda: agent is not None and agent.next_seq("ice") >= 4, 90, "four segments")
            assert agent.proc is not None
            agent.proc.kill()
            agent.proc.wait(10)
            crashed_seqs = agent.next_seq("ice")
            agent = AgentProcess(config).start()
            wait_for(
                lambda: agent is not None and "source problem" in agent.log(), 150, "the end of the stream"
            )
            wait_for(lambda: agent is not None and agent.queued() == [], 60, "the last uploads")
            n = agent.next_seq("ice")
            wait_for(
                lambda: (
                    len(_segments(c)) == n and all(s.status in ("matched", "unmatched") for s in _segments(c))
                ),
                60,
                "the worker to match every segment",
            )
            # the stream ended: the agent reported the outage and the worker closes the play
            wait_for(
                lambda: _plays(c) and all(p.status == "final" for p in _plays(c)), 90, "the play to close"
            )
        assert agent.stop() == 0
    finally:
        if agent is not None:
            agent.close()
        c.close()

    segments = _segments(c)
    first_run = [s for s in segments if s.seq < crashed_seqs]
    second_run = [s for s in segments if s.seq >= crashed_seqs]
    end_of_first = max(s.start + timedelta(seconds=s.duration) for s in first_run)
    # what the crash made: the restarted agent's burst repeats audio it had already sent
    assert min(s.start for s in second_run) < end_of_first, (
        "no overlap: the restart took longer than the burst"
    )

    plays = _plays(c)
    assert len(plays) == 1, [(p.start, p.end) for p in plays]
    play = plays[0]
    # audio at second x of the programme aired between fed_at + x and up_at + x; the agent
    # stamps it within about a second and a half of that, and a play's ends are good to ~1.5 s
    aired_from, aired_to = fed_at + timedelta(seconds=SONG_AT), up_at + timedelta(seconds=SONG_AT)
    assert aired_from - timedelta(seconds=2.5) < play.start < aired_to + timedelta(seconds=2.5), play.start
    ends_from, ends_to = aired_from + timedelta(seconds=SONG_S), aired_to + timedelta(seconds=SONG_S)
    assert ends_from - timedelta(seconds=2.5) < play.end < ends_to + timedelta(seconds=3.0), play.end
    assert play.duration > SONG_S - 3.0

    spans = [(s.start, s.start + timedelta(seconds=s.duration)) for s in segments]
    day = segments[0].start.date()
    period = parse_period(f"{day}..{day + timedelta(days=1)}", "UTC")  # the test may run over midnight
    with c.tx() as s:
        monitored = monitoring.activity_table(s, period, None).rows[0][3] * 3600
    assert monitored == pytest.approx(covered_seconds(spans, period.start, period.end), abs=0.01)
    assert monitored < sum(s.duration for s in segments)  # the repeated audio counted once
    for a, b in itertools.pairwise(second_run):  # within a run, segments follow each other
        assert abs((b.start - a.start).total_seconds() - a.duration) < 0.05


def _plays(c: Collector) -> list[Play]:
    with c.session() as s:
        return list(s.scalars(select(Play).order_by(Play.start)))
