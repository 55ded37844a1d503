"""A song heard in parts is one song: one cluster, one lookup, and a learned reference that grows
to the song's start and end.

Real music and speech, fingerprinted as an agent does, stored as the stations' segments in a
real database (both backends) and put through the worker's own cycle; lookups go to the
AudD/AcoustID stand-in, and the agents' side of an excerpt request is played by cutting the
asked seconds from the programme's file and answering through the collector's own
:func:`collector.ingest.excerpts.answer`, as ``POST /api/v1/excerpts`` does.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from collector.catalog.models import Recording
from collector.db.session import transaction
from collector.fleet.models import Station
from collector.ingest.excerpts import ExcerptRequest
from collector.plays.models import Play
from collector.recognizers.clusters import UnknownCluster, UnknownSpan
from collector.recognizers.values import reference_blob
from collector.reports.models import GeneratedReport
from collector.reports.revisions import revise
from collector.reports.schedule import generate_period
from collector.settings import CollectorSettings
from shared.chroma import item_duration
from shared.codec import decode
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.naming import (
    NEWS,
    ONE_WAY,
    QUIET_PASSAGES,
    SONG,
    add_stations,
    name_clusters,
    played,
)
from tests.integration.collector.unknowns.programmes import START, TALK, run_worker, store
from tests.support.audio import concat, excerpt, pcm11k, silence, speech, track
from tests.support.recognizers_standin import References, Standin, write_catalog


def test_a_song_cut_by_a_quiet_passage_is_one_cluster(collector: Collector, tmp_path: Path) -> None:
    """Musicness cuts this song in three at its quiet passages; each part after a cut matches no
    cluster (its audio is new), yet it goes on end to end from the part before: one cluster, one
    lookup. A song after talk, on the same station, is another cluster."""
    c = collector
    add_stations(c, "a")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    song = excerpt(QUIET_PASSAGES, tmp_path / "song.mp3", 0, 150)
    other = excerpt(track(ONE_WAY), tmp_path / "other.mp3", 10, 60)
    store(c, "radio-a", "box-a", concat([talk, song, talk, other, talk, after], tmp_path / "a.mp3"), START)
    run_worker(c)
    with c.session() as s:
        spans = s.scalars(select(UnknownSpan).order_by(UnknownSpan.start)).all()
        clusters = {cl.id: cl for cl in s.scalars(select(UnknownCluster))}
        references = {cid: decode(cl.reference).duration for cid, cl in clusters.items()}
    summary = [(sp.start, sp.end, sp.cluster_id, sp.offset_s) for sp in spans]
    *parts, last = spans
    assert len(parts) >= 2, summary  # the quiet passages cut the song...
    assert len(clusters) == 2 and {sp.cluster_id for sp in parts} == {parts[0].cluster_id}, summary
    assert last.cluster_id != parts[0].cluster_id  # ...the song after the talk is another one
    cut = clusters[parts[0].cluster_id]
    assert cut.spans == len(parts) and references[cut.id] >= 140, summary
    for sp in parts:  # each part sits in the reference where it played
        assert abs(sp.offset_s - (sp.start - parts[0].start).total_seconds()) <= 1.5, summary
    assert cut.lookup == "acoustid" and clusters[last.cluster_id].lookup == "acoustid"


def test_a_part_running_past_the_reference_continues_its_cluster(
    collector: Collector, tmp_path: Path
) -> None:
    """The song's reference ends 6 s into its second part (as heard where a station cut it there).
    Aired whole on another station, its first part is placed at the reference's start; its
    second part shares too little with the reference for its chunks to be placed there, but it
    goes on from the first part through a quiet passage and runs past the reference's end: it
    continues that cluster and grows it, as does the third. One cluster, one lookup."""
    c = collector
    add_stations(c, "a", "b")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    start = excerpt(QUIET_PASSAGES, tmp_path / "start.mp3", 0, 60)
    whole = excerpt(QUIET_PASSAGES, tmp_path / "whole.mp3", 0, 150)
    store(c, "radio-a", "box-a", concat([talk, start, talk, after], tmp_path / "a.mp3"), START)
    run_worker(c)
    with transaction(c.tx) as s:
        (cluster,) = s.scalars(select(UnknownCluster)).all()
        ref = decode(cluster.reference).values
        assert ref.size * item_duration(0) >= 50  # the song's first 60 s, in two parts
        cluster.reference = reference_blob(ref[: round(42 / item_duration(0))])  # cut at 42 s
    t2 = START + timedelta(hours=1)
    store(c, "radio-b", "box-b", concat([talk, whole, talk, after], tmp_path / "b.mp3"), t2)
    run_worker(c)
    with c.session() as s:
        clusters = s.scalars(select(UnknownCluster)).all()
        parts = s.scalars(
            select(UnknownSpan).where(UnknownSpan.start >= t2).order_by(UnknownSpan.start)
        ).all()
    summary = [(sp.start, sp.end, sp.cluster_id, sp.offset_s) for sp in parts]
    assert len(parts) >= 2 and len(clusters) == 1, summary  # cut at a quiet passage, one song
    assert decode(clusters[0].reference).duration >= 140, summary  # grown to what aired
    for sp in parts:  # each part sits in the reference where it played
        assert abs(sp.offset_s - (sp.start - parts[0].start).total_seconds()) <= 1.5, summary
    assert clusters[0].lookup == "acoustid"  # one lookup to make, for the whole song


def test_a_learned_song_grows_back_to_its_start(collector: Collector, tmp_path: Path) -> None:
    """Named from the middle of a song, a learned recording matches only that middle; heard again
    whole, the song's beginning (before the play) and its end (after it) join the recording, so
    that its next plays, on any station, start and end where the song does."""
    c = collector
    add_stations(c, "a", "b")
    talk = speech(tmp_path / "talk.wav", TALK)
    middle = excerpt(track(SONG), tmp_path / "middle.mp3", 70, 70)
    whole = excerpt(track(SONG), tmp_path / "whole.mp3", 10, 180)
    after = silence(tmp_path / "after.wav", 70)  # the newest audio: a span ending there would wait
    day1 = concat([talk, middle, talk, after], tmp_path / "day1.mp3")
    news = [speech(tmp_path / f"news{i}.wav", text) for i, text in enumerate(NEWS)]  # other words
    day2 = concat([news[0], whole, talk, after], tmp_path / "day2.mp3")
    chain = "acompressor=threshold=0.1:ratio=4,lowpass=f=9000"
    whole_b = excerpt(track(SONG), tmp_path / "whole-b.mp3", 10, 180, chain)
    day3 = concat([news[1], whole_b, talk, after], tmp_path / "day3.mp3")
    t2, t3 = START + timedelta(hours=1), START + timedelta(hours=2)
    aired = {"radio-a": [(day1, START), (day2, t2)], "radio-b": [(day3, t3)]}
    write_catalog(tmp_path / "standin", [track(SONG)])
    with Standin(References.load(tmp_path / "standin")) as standin:
        store(c, "radio-a", "box-a", day1, START)
        run_worker(c)
        name_clusters(c, standin, aired)
        with c.session() as s:
            learned = s.scalars(select(Recording).where(Recording.source == "audd")).one()
            heard = learned.duration
        assert heard <= 80  # the middle (70 s), as it was heard
        store(c, "radio-a", "box-a", day2, t2, seq=1000)
        run_worker(c)
        store(c, "radio-b", "box-b", day3, t3)
        run_worker(c)
        paid = [r.service for r in standin.requests if r.service == "audd"]
    with c.session() as s:
        rec = s.get_one(Recording, learned.id)
        plays = {
            slug: s.execute(
                select(func.min(Play.start), func.max(Play.end))
                .join(Station, Station.id == Play.station_id)
                .where(Play.recording_id == rec.id, Station.slug == slug, Play.start >= since)
            ).one()
            for slug, since in (("radio-a", t2), ("radio-b", t3))
        }
        clusters = s.scalar(select(func.count()).select_from(UnknownCluster))
    assert paid == ["audd"] and clusters == 1  # one lookup, one song
    assert rec.duration >= 170, (heard, rec.duration)  # grown before and after the middle
    for (slug, since), before in zip((("radio-a", t2), ("radio-b", t3)), news, strict=True):
        first, last = plays[slug]
        assert first is not None and last is not None, plays
        song_start = since + timedelta(seconds=pcm11k(before).size / 11025)
        assert abs((first - song_start).total_seconds()) <= 3, (slug, first, song_start)
        assert abs((last - song_start).total_seconds() - 180) <= 3, (slug, last, song_start)


def test_a_learned_song_takes_the_seconds_short_of_its_ends(collector: Collector, tmp_path: Path) -> None:
    """Learned from the middle of a song, a recording names a later airing only where that
    middle plays: the 12 s before and after it, too short for a span, stayed unnamed on every
    airing. AudD said where the song starts and ends: those seconds, next to the play, are the
    song's, and the recording takes them; that play and the next airings start and end where
    the song does, without another lookup."""
    c = collector
    add_stations(c, "a", "b")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    news = [speech(tmp_path / f"news{i}.wav", text) for i, text in enumerate(NEWS)]
    middle = excerpt(track(SONG), tmp_path / "middle.mp3", 70, 70)
    wider = excerpt(track(SONG), tmp_path / "wider.mp3", 58, 94)  # 12 s more on each side
    day1 = concat([talk, middle, talk, after], tmp_path / "day1.mp3")
    day2 = concat([news[0], wider, talk, after], tmp_path / "day2.mp3")
    day3 = concat([news[1], wider, talk, after], tmp_path / "day3.mp3")
    t2, t3 = START + timedelta(hours=1), START + timedelta(hours=2)
    aired = {"radio-a": [(day1, START), (day3, t3)], "radio-b": [(day2, t2)]}
    write_catalog(tmp_path / "standin", [track(SONG)])
    with Standin(References.load(tmp_path / "standin")) as standin:
        store(c, "radio-a", "box-a", day1, START)
        run_worker(c)
        name_clusters(c, standin, aired)
        store(c, "radio-b", "box-b", day2, t2)
        run_worker(c)
        store(c, "radio-a", "box-a", day3, t3, seq=1000)
        run_worker(c)
        paid = [r.service for r in standin.requests if r.service == "audd"]
    assert paid == ["audd"]
    for slug, since, until, before in (
        ("radio-b", t2, t3, news[0]),
        ("radio-a", t3, t3 + timedelta(hours=1), news[1]),
    ):
        song_start = since + timedelta(seconds=pcm11k(before).size / 11025)
        first, last = played(c, slug, since, until)
        assert abs((first - song_start).total_seconds()) <= 3, (slug, first, song_start)
        assert abs((last - song_start).total_seconds() - 94) <= 3, (slug, last, song_start)


def test_a_song_provider_did_not_know_is_asked_once_more_when_it_airs_again(
    collector: Collector, tmp_path: Path
) -> None:
    """AudD knows another edit of the song, without its first 95 seconds: the excerpt of
    its first airing finds nothing. When it airs again, longer, AudD hears one more excerpt, of
    the new airing, and names it; speech is never sent."""
    c = collector
    add_stations(c, "a", "b")
    edit = excerpt(track(SONG), tmp_path / "edit.mp3", 95, 130)
    refs_dir = tmp_path / "standin"
    write_catalog(refs_dir, [edit])
    refs = References.load(refs_dir)
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    early, late = (
        excerpt(track(SONG), tmp_path / "early.mp3", 10, 100),
        # as much again before its end as it shares with the first airing: one song (a span
        # running on further would be cut there, as two songs run together are)
        excerpt(track(SONG), tmp_path / "late.mp3", 40, 140),
    )
    first = concat([talk, early, talk, after], tmp_path / "a.mp3")
    again = concat([talk, late, talk, after], tmp_path / "b.mp3")
    t2 = START + timedelta(hours=1)
    aired = {"radio-a": [(first, START)], "radio-b": [(again, t2)]}
    with Standin(refs) as standin:
        store(c, "radio-a", "box-a", first, START)
        run_worker(c)
        name_clusters(c, standin, aired)
        with c.session() as s:
            (cluster,) = s.scalars(select(UnknownCluster)).all()
            assert cluster.lookup == "not_found", cluster.lookup_detail
        store(c, "radio-b", "box-b", again, t2)
        run_worker(c)
        name_clusters(c, standin, aired)
        audd = [r for r in standin.requests if r.service == "audd"]
    with c.session() as s:
        cluster = s.get_one(UnknownCluster, cluster.id)
        asked = s.scalars(select(ExcerptRequest).order_by(ExcerptRequest.id)).all()
        stations = [s.get_one(Station, r.station_id).slug for r in asked]
        spans = [
            s.scalars(select(UnknownSpan).where(UnknownSpan.excerpt_request_id == r.id)).one() for r in asked
        ]
    assert cluster.lookup == "named" and cluster.recording_id is not None, cluster.lookup_detail
    assert len(audd) == 2 and stations == ["radio-a", "radio-b"]  # once more, on the new airing
    for r in audd:
        assert (r.audio_seconds or 0) <= 12.5
    for sp in spans:  # the middle of the song as aired, away from its intro and its fade
        margin = (sp.seconds - 12) / 4 - 1
        assert (sp.excerpt_start - sp.start).total_seconds() >= margin
        assert (sp.end - sp.excerpt_end).total_seconds() >= margin


def test_earlier_plays_are_revised_when_a_learned_song_grows(collector: Collector, tmp_path: Path) -> None:
    """Learned from the middle of a song, a recording names a later airing on another station
    only where that middle plays: 12 s before and after it, too short for a span of their own,
    stay unnamed (its provider did not say where in the song it heard it, as AcoustID or a
    person would not: nothing says those seconds are the song's). When the song airs whole and
    the recording grows to its start and end, that earlier play is revised to the song's start
    and end, and the report of its day, generated before, is generated again once the day is
    over, with a note of why."""
    c = collector
    add_stations(c, "a", "b")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    news = [speech(tmp_path / f"news{i}.wav", text) for i, text in enumerate(NEWS)]
    middle = excerpt(track(SONG), tmp_path / "middle.mp3", 70, 70)
    wider = excerpt(track(SONG), tmp_path / "wider.mp3", 58, 94)  # 12 s more on each side
    whole = excerpt(track(SONG), tmp_path / "whole.mp3", 10, 180)
    day1 = concat([talk, middle, talk, after], tmp_path / "day1.mp3")
    day2 = concat([news[0], wider, talk, after], tmp_path / "day2.mp3")
    day3 = concat([news[1], whole, talk, after], tmp_path / "day3.mp3")
    t2, t3 = START + timedelta(hours=1), START + timedelta(hours=2)
    aired = {"radio-a": [(day1, START), (day3, t3)], "radio-b": [(day2, t2)]}
    song_start = t2 + timedelta(seconds=pcm11k(news[0]).size / 11025)  # of the wider airing
    settings = CollectorSettings(database_url=c.database_url, report_dir=tmp_path / "reports")
    write_catalog(tmp_path / "standin", [track(SONG)])
    with Standin(References.load(tmp_path / "standin")) as standin:
        store(c, "radio-a", "box-a", day1, START)
        run_worker(c)
        name_clusters(c, standin, aired)
        with transaction(c.tx) as s:  # named without a timecode
            (cluster,) = s.scalars(select(UnknownCluster)).all()
            cluster.candidates = [dict(cand, timecode=None) for cand in cluster.candidates or []]
        store(c, "radio-b", "box-b", day2, t2)
        run_worker(c)
        first, last = played(c, "radio-b", t2, t3)
        assert (first - song_start).total_seconds() >= 8, first  # the middle only: it starts late
        assert (song_start - last).total_seconds() + 94 >= 8, last  # ...and ends early
        period = f"{t2:%Y-%m-%d}"
        with transaction(c.tx) as s:
            before = {(r.report, r.scope) for r, _ in generate_period(s, settings, period)}
        store(c, "radio-a", "box-a", day3, t3, seq=1000)
        run_worker(c)
        paid = [r.service for r in standin.requests if r.service == "audd"]
    assert paid == ["audd"]  # one lookup: the later airings grew the recording, for free
    first, last = played(c, "radio-b", t2, t3)
    assert abs((first - song_start).total_seconds()) <= 3, (first, song_start)
    assert abs((last - song_start).total_seconds() - 94) <= 3, (last, song_start)
    with transaction(c.tx) as s:
        later = datetime.now(UTC) + timedelta(days=3)  # the day is over: its reports are final
        assert revise(s, settings, now=later) == len(before)
        records = s.scalars(select(GeneratedReport).where(GeneratedReport.period == period)).all()
    notes = {r.revision_note or "" for r in records}
    assert records and all("learned recording" in n for n in notes), notes
    assert all("song's start" in n and "song's end" in n for n in notes), notes  # both revisions


def test_a_part_past_a_quiet_passage_is_the_learned_song(collector: Collector, tmp_path: Path) -> None:
    """Learned from the middle of a song, a recording names that middle on a later airing; the
    airing's music before it is cut off by a quiet passage of 16 s that musicness does not call
    music, so it is not next to the play. AudD said where the song starts: that music lies within
    the song, before the play, on the same station: it is the song's beginning, and the
    recording grows to it, without a second lookup or a second recording of the song."""
    c = collector
    add_stations(c, "a", "b")
    talk, after = speech(tmp_path / "talk.wav", TALK), silence(tmp_path / "after.wav", 70)
    middle = excerpt(track(SONG), tmp_path / "middle.mp3", 100, 70)
    before = excerpt(track(SONG), tmp_path / "before.mp3", 40, 44)
    quiet = excerpt(track(SONG), tmp_path / "quiet.mp3", 84, 16, "volume=-70dB")  # all but silent
    day1 = concat([talk, middle, talk, after], tmp_path / "day1.mp3")
    day2 = concat(
        [speech(tmp_path / "news.wav", NEWS[0]), before, quiet, middle, talk, after], tmp_path / "day2.mp3"
    )
    t2 = START + timedelta(hours=1)
    aired = {"radio-a": [(day1, START)], "radio-b": [(day2, t2)]}
    write_catalog(tmp_path / "standin", [track(SONG)])
    with Standin(References.load(tmp_path / "standin")) as standin:
        store(c, "radio-a", "box-a", day1, START)
        run_worker(c)
        name_clusters(c, standin, aired)
        store(c, "radio-b", "box-b", day2, t2)
        run_worker(c)
        name_clusters(c, standin, aired)
        paid = [r.service for r in standin.requests if r.service == "audd"]
    run_worker(c)
    with c.session() as s:
        recordings = s.scalars(select(Recording).where(Recording.source == "audd")).all()
    assert paid == ["audd"] and len(recordings) == 1, [(r.title, r.duration) for r in recordings]
    assert recordings[0].duration >= 125, recordings[0].duration  # 40 s to 170 s of the song
    song_start = t2 + timedelta(seconds=pcm11k(tmp_path / "news.wav").size / 11025)
    first, last = played(c, "radio-b", t2, t2 + timedelta(hours=1))
    errors = [(first - song_start).total_seconds(), (last - song_start).total_seconds() - 130]
    assert max(abs(e) for e in errors) <= 5, errors  # musicness's window after talk
