"""Play assembly where radio is hardest (issue #17): faint windows all along a song, a voice
over its opening, a near-duplicate version in the catalog, a song crossfaded into itself.

Same synthetic broadcasts as test_assembly (random 32-bit words; a recording is a fixed
random sequence), through the service's own order of steps: evidence along one alignment,
chaining, one version per play, boundaries.
"""

from __future__ import annotations

import numpy as np

from collector.matching.index import CatalogIndex
from collector.plays.boundaries import refine, trim_overlaps
from collector.plays.chaining import chain
from collector.plays.draft import PlayDraft, SegInfo
from collector.plays.sequential import accumulate
from collector.plays.versions import choose_versions
from shared.codec import FingerprintSegment
from tests.unit.collector.test_assembly import REFS, RNG, STEP, Broadcast, secs

# a remaster of recording 1: the same music, a tenth of its bits changed
REFS[4] = REFS[1] ^ np.where(
    RNG.random(REFS[1].size) < 0.10,
    np.uint32(1) << RNG.integers(0, 32, REFS[1].size, dtype=np.uint32),
    np.uint32(0),
).astype(np.uint32)


def pipeline(b: Broadcast) -> list[PlayDraft]:
    segs, fps = b.segments()
    segs = sorted(segs, key=lambda s: (s.start, s.id))
    index = CatalogIndex()
    for rid, ref in REFS.items():
        index.add(rid, ref)
    index.build()

    def values_of(sid: int, rate_ppm: int) -> FingerprintSegment | None:
        return fps.get(sid) if rate_ppm == 0 else None

    segs = accumulate(segs, index, REFS, values_of)
    drafts = choose_versions(chain(segs, values_of, REFS), index, REFS, values_of)
    for d in drafts:
        refine(d, segs, REFS[d.recording_id], values_of, REFS[d.recording_id].size * STEP)
    trim_overlaps(drafts)
    return drafts


def named(segs: list[SegInfo]) -> int:
    return sum(1 for s in segs if s.match is not None)


def test_a_song_heard_faintly_all_along_is_one_play_from_a_single_faint_match() -> None:
    # through an AM band every window sits at a BER of ~0.3: the matcher names one window in
    # the middle only faintly; along that window's alignment the others add up
    b = Broadcast().other(25)
    t_start = b.t
    b.song(3, 0, 50, ber=0.27, ends=False).song(3, None, 10, ber=0.12, ends=False).song(3, None, 60, ber=0.27)
    t_end = b.t
    b.other(40)
    plays = pipeline(b)
    assert [p.recording_id for p in plays] == [3]
    assert abs(secs(plays[0].start) - t_start) < 2.0
    assert abs(secs(plays[0].end) - t_end) < 2.0


def test_unrelated_audio_beside_a_song_is_never_named_by_accumulated_evidence() -> None:
    b = Broadcast().other(60).song(2, 30, 60).other(90)
    segs, fps = b.segments()
    index = CatalogIndex()
    for rid, ref in REFS.items():
        index.add(rid, ref)
    index.build()
    after = accumulate(segs, index, REFS, lambda sid, rate: fps.get(sid) if rate == 0 else None)
    assert named(after) == named(segs)


def test_a_voice_over_the_opening_at_the_musics_level_is_bridged_to_the_songs_first_second() -> None:
    # the first 30 s under a voice: the fingerprint agrees only faintly (BER ~0.4), no window is
    # named; the play still starts with the song
    b = Broadcast().other(20)
    t_start = b.t
    b.song(2, 0, 30, ber=0.36, ends=False).song(2, None, 80)
    b.other(30)
    plays = pipeline(b)
    assert [p.recording_id for p in plays] == [2]
    assert abs(secs(plays[0].start) - t_start) < 3.0


def test_a_near_duplicate_version_names_the_play_once_and_is_kept_as_its_alternate() -> None:
    # the remaster (4) airs; the original (1) matches every window nearly as well
    b = Broadcast().other(20)
    t_start = b.t
    b.song(4, 0, 120, ber=0.03)
    b.other(30)
    plays = pipeline(b)
    assert [(p.recording_id, p.alternate_id) for p in plays] == [(4, 1)]
    assert abs(secs(plays[0].start) - t_start) < 2.0


def test_a_song_crossfaded_into_itself_a_little_further_on_is_two_plays() -> None:
    b = Broadcast().other(20)
    b.song(3, 0, 60, ends=False)
    b.song(3, 63, 60)
    b.other(30)
    plays = pipeline(b)
    assert [p.recording_id for p in plays] == [3, 3]
