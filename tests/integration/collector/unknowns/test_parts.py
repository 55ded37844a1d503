"""Two songs a station runs together are two songs; one song parted by that cut is one again
once named.

Real music and speech, fingerprinted as an agent does, stored as the stations' segments in a
real database (both backends) and put through the worker's own cycle; lookups go to the
AudD/AcoustID stand-in (:mod:`tests.integration.collector.unknowns.naming`).
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from collector.catalog.models import Recording
from collector.db.session import transaction
from collector.plays.models import Play
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from shared.codec import decode
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.naming import (
    NEWS,
    ONE_WAY,
    SONG,
    add_stations,
    name_clusters,
    played,
)
from tests.integration.collector.unknowns.programmes import START, TALK, run_worker, store
from tests.support.audio import concat, excerpt, pcm11k, silence, speech, track
from tests.support.recognizers_standin import References, Standin, write_catalog


def test_two_songs_run_together_are_two_clusters(collector: Collector, tmp_path: Path) -> None:
    """One station aired a song's first minute; another airs 150 s of a second song straight
    into that song's first 40 s, with no cut musicness can see (as the week benchmark's
    programmes did: 160 s into 40 s): one span, placed by its last chunks in the first song's
    cluster. Its first part, which that cluster's reference does not hold, is not put before it:
    it is a span of its own, another cluster; each song is named for itself, and each play on
    the second station starts and ends where its song does."""
    c = collector
    add_stations(c, "a", "b")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    first = excerpt(track(ONE_WAY), tmp_path / "first.mp3", 10, 60)
    other = excerpt(track(SONG), tmp_path / "other.mp3", 10, 150)
    into = excerpt(track(ONE_WAY), tmp_path / "into.mp3", 10, 40)
    news = speech(tmp_path / "news.wav", NEWS[0])
    day1 = concat([talk, first, talk, after], tmp_path / "day1.mp3")
    day2 = concat([news, other, into, talk, after], tmp_path / "day2.mp3")
    t2 = START + timedelta(hours=1)
    aired = {"radio-a": [(day1, START)], "radio-b": [(day2, t2)]}
    store(c, "radio-a", "box-a", day1, START)
    run_worker(c)
    store(c, "radio-b", "box-b", day2, t2)
    run_worker(c)
    with c.session() as s:
        spans = s.scalars(select(UnknownSpan).order_by(UnknownSpan.start)).all()
        references = {cl.id: decode(cl.reference).duration for cl in s.scalars(select(UnknownCluster))}
    summary = [(sp.station_id, sp.start, sp.end, sp.cluster_id, sp.offset_s) for sp in spans], references
    assert len(references) == 2, summary  # the two songs, two clusters
    (a,) = [sp for sp in spans if sp.start < t2]
    assert references[a.cluster_id] <= 65, summary  # the first song's minute, nothing before it
    b = [sp for sp in spans if sp.start >= t2]
    assert [sp.cluster_id for sp in b][-1] == a.cluster_id and b[0].cluster_id != a.cluster_id, summary
    write_catalog(tmp_path / "standin", [track(ONE_WAY), track(SONG)])
    with Standin(References.load(tmp_path / "standin")) as standin:
        name_clusters(c, standin, aired)
    run_worker(c)  # their spans matched again, against the learned recordings
    song_start = t2 + timedelta(seconds=pcm11k(news).size / 11025)
    joined = song_start + timedelta(seconds=150)
    with c.session() as s:
        named = s.scalars(select(UnknownCluster).where(UnknownCluster.recording_id.is_not(None))).all()
        plays = s.execute(
            select(Recording.title, func.min(Play.start), func.max(Play.end))
            .join(Recording, Recording.id == Play.recording_id)
            .where(Play.start >= t2)
            .group_by(Recording.title)
        ).all()
    assert len({cl.recording_id for cl in named}) == 2, [cl.candidates for cl in named]
    ends = {title: (start, end) for title, start, end in plays}
    assert len(ends) == 2, plays
    (song, other_song) = sorted(ends.values())
    errors = [
        (song[0] - song_start).total_seconds(),
        (song[1] - joined).total_seconds(),
        (other_song[0] - joined).total_seconds(),
        (other_song[1] - joined).total_seconds() - 40,
    ]
    # a span's edge after talk is placed to musicness's 5 s window; where the songs meet, to 3 s
    assert abs(errors[0]) <= 5 and max(abs(e) for e in errors[1:]) <= 3, (errors, plays)


def test_a_part_no_provider_knew_joins_the_named_song_it_was_cut_from(
    collector: Collector, tmp_path: Path
) -> None:
    """A song's first minute, heard on one station, was not named (AudD did not know it from its
    excerpt). Another station airs it from its 40th second on, for more than it shares with that
    minute: the span is cut where it leaves the minute, as two songs run together would be, and
    its new part is a cluster of its own. AudD names that part and says where the song starts:
    the minute lies within the song, so its cluster joins the named one, and both stations'
    plays are the song's, from where each began."""
    c = collector
    add_stations(c, "a", "b")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    news = speech(tmp_path / "news.wav", NEWS[0])
    minute = excerpt(track(SONG), tmp_path / "minute.mp3", 20, 60)
    later = excerpt(track(SONG), tmp_path / "later.mp3", 60, 140)
    day1 = concat([talk, minute, talk, after], tmp_path / "day1.mp3")
    day2 = concat([news, later, talk, after], tmp_path / "day2.mp3")
    t2 = START + timedelta(hours=1)
    aired = {"radio-a": [(day1, START)], "radio-b": [(day2, t2)]}
    write_catalog(tmp_path / "standin", [track(SONG)])
    store(c, "radio-a", "box-a", day1, START)
    run_worker(c)
    with transaction(c.tx) as s:  # as after AudD's answer to its excerpt
        (first,) = s.scalars(select(UnknownCluster)).all()
        first.lookup, first.lookup_detail = "not_found", "AudD: no match"
    store(c, "radio-b", "box-b", day2, t2)
    run_worker(c)
    with c.session() as s:
        parts = s.scalars(
            select(UnknownSpan).where(UnknownSpan.start >= t2).order_by(UnknownSpan.start)
        ).all()
    summary = [(sp.start, sp.end, sp.cluster_id, sp.offset_s) for sp in parts]
    assert len({sp.cluster_id for sp in parts}) == 2 and parts[0].cluster_id == first.id, summary
    with Standin(References.load(tmp_path / "standin")) as standin:
        name_clusters(c, standin, aired)
        paid = [r.service for r in standin.requests if r.service == "audd"]
    run_worker(c)
    with c.session() as s:
        merged = s.get_one(UnknownCluster, first.id)
        named = s.get_one(UnknownCluster, parts[-1].cluster_id)
        rec = s.scalars(select(Recording).where(Recording.source == "audd")).one()
    assert paid == ["audd"] and merged.merged_into == named.id and named.recording_id == rec.id
    assert rec.duration >= 170, rec.duration  # the minute, then the rest as the other station aired it
    minute_start = START + timedelta(seconds=pcm11k(talk).size / 11025)
    later_start = t2 + timedelta(seconds=pcm11k(news).size / 11025)
    for slug, since, until, start, length in (
        ("radio-a", START, t2, minute_start, 60),
        ("radio-b", t2, t2 + timedelta(hours=1), later_start, 140),
    ):
        began, ended = played(c, slug, since, until)
        errors = [(began - start).total_seconds(), (ended - start).total_seconds() - length]
        assert max(abs(e) for e in errors) <= 5, (slug, errors)  # musicness's window after talk
