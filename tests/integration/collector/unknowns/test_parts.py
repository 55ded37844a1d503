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


def test_a_learned_song_holds_no_other_songs_end(collector: Collector, tmp_path: Path) -> None:
    """A station aired a song's first 80 s, and later the last 40 s of another song straight into
    those 80 s again: one span, placed in the song's cluster, whose 40 s before the reference are
    too short beside the 80 s it shares to be cut off as a song of their own: the reference grew
    by them. AudD names the song and says where it starts: the learned recording is cut to the
    song, so another station airing the other song whole has it named for itself to its end,
    and none of it named as the first song."""
    c = collector
    add_stations(c, "a", "b")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    news = speech(tmp_path / "news.wav", NEWS[0])
    song = excerpt(track(SONG), tmp_path / "song.mp3", 0, 80)
    end = excerpt(track(ONE_WAY), tmp_path / "end.mp3", 60, 40)
    whole = excerpt(track(ONE_WAY), tmp_path / "whole.mp3", 10, 90)  # the same end at its last 40 s
    day1 = concat([talk, song, talk, end, song, talk, after], tmp_path / "day1.mp3")
    day2 = concat([news, whole, talk, after], tmp_path / "day2.mp3")
    t2 = START + timedelta(hours=1)
    aired = {"radio-a": [(day1, START)], "radio-b": [(day2, t2)]}
    write_catalog(tmp_path / "standin", [track(SONG), track(ONE_WAY)])
    with Standin(References.load(tmp_path / "standin")) as standin:
        store(c, "radio-a", "box-a", day1, START)
        run_worker(c)
        with c.session() as s:
            (cluster,) = s.scalars(select(UnknownCluster)).all()
            grown = decode(cluster.reference).duration
        assert grown >= 110, grown  # the other song's end is before the song's 80 s
        name_clusters(c, standin, aired)
        with c.session() as s:
            rec = s.scalars(select(Recording).where(Recording.source == "audd")).one()
        assert rec.duration <= 85, rec.duration  # the song, as heard: its 80 s
        store(c, "radio-b", "box-b", day2, t2)
        run_worker(c)
        name_clusters(c, standin, aired)
    run_worker(c)
    with c.session() as s:
        plays = s.execute(
            select(Recording.title, func.min(Play.start), func.max(Play.end))
            .join(Recording, Recording.id == Play.recording_id)
            .where(Play.start >= t2)
            .group_by(Recording.title)
        ).all()
    titles = {r.title for r in References.load(tmp_path / "standin").refs}
    assert len(plays) == 1 and plays[0][0] in titles and plays[0][0] != rec.title, plays
    whole_start = t2 + timedelta(seconds=pcm11k(news).size / 11025)
    errors = [(plays[0][1] - whole_start).total_seconds(), (plays[0][2] - whole_start).total_seconds() - 90]
    assert max(abs(e) for e in errors) <= 5, (errors, plays)  # musicness's window after talk


def test_a_part_before_a_quiet_passage_joins_the_song_named_after_it(
    collector: Collector, tmp_path: Path
) -> None:
    """A song's first 24 s, then a quiet passage of 16 s that musicness does not call music, then
    70 s more: two spans that do not meet, two clusters; the first too short to be looked up.
    AudD names the second and says where the song starts: the first lies within the song on the
    same station, with nothing aired between but the passage, so its cluster joins the named
    one, the passage included, and the station's play is the song's from its first second."""
    c = collector
    add_stations(c, "a")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    intro = excerpt(track(SONG), tmp_path / "intro.mp3", 40, 24)
    quiet = excerpt(track(SONG), tmp_path / "quiet.mp3", 64, 16, "volume=-70dB")  # all but silent
    rest = excerpt(track(SONG), tmp_path / "rest.mp3", 80, 70)
    day1 = concat([talk, intro, quiet, rest, talk, after], tmp_path / "day1.mp3")
    aired = {"radio-a": [(day1, START)]}
    write_catalog(tmp_path / "standin", [track(SONG)])
    store(c, "radio-a", "box-a", day1, START)
    run_worker(c)
    with c.session() as s:
        spans = s.scalars(select(UnknownSpan).order_by(UnknownSpan.start)).all()
    summary = [(sp.start, sp.end, sp.cluster_id, sp.offset_s) for sp in spans]
    assert len({sp.cluster_id for sp in spans}) == 2, summary  # parted by the passage
    with Standin(References.load(tmp_path / "standin")) as standin:
        name_clusters(c, standin, aired)
        paid = [r.service for r in standin.requests if r.service == "audd"]
    run_worker(c)
    with c.session() as s:
        clusters = s.scalars(select(UnknownCluster).where(UnknownCluster.merged_into.is_(None))).all()
        rec = s.scalars(select(Recording).where(Recording.source == "audd")).one()
    assert paid == ["audd"] and len(clusters) == 1 and clusters[0].recording_id == rec.id
    assert rec.duration >= 105, rec.duration  # the first 24 s, the passage, the 70 s
    song_start = START + timedelta(seconds=pcm11k(talk).size / 11025)
    first, last = played(c, "radio-a", START, START + timedelta(hours=1))
    errors = [(first - song_start).total_seconds(), (last - song_start).total_seconds() - 110]
    assert max(abs(e) for e in errors) <= 5, errors  # musicness's window after talk
