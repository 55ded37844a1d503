"""Play assembly: per-segment matches in, plays with exact boundaries out.

A synthetic broadcast of Chromaprint-like values (random 32-bit words; a "recording" is a
fixed random sequence) is cut into 10-second segments exactly as the segmenter does, each
segment is named by the real matcher against a real index, and the assembly turns them
into plays. Times are checked to within one value (~0.12 s) of where the music really is.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_values
from collector.plays.boundaries import VALUE_SPAN_S, refine, trim_overlaps
from collector.plays.chaining import BRIDGE_S, chain
from collector.plays.closing import StationClock
from collector.plays.draft import PlayDraft, SegInfo, SegmentMatchInfo
from shared.chroma import CHROMAPRINT_RATE, item_duration
from shared.codec import FingerprintSegment

STEP = item_duration(0)  # seconds per value
SEG_S = 10.0
T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RNG = np.random.default_rng(1234)
REFS = {rid: RNG.integers(0, 2**32, size=int(200 / STEP), dtype=np.uint32) for rid in (1, 2, 3)}


def noisy(values: npt.NDArray[np.uint32]) -> npt.NDArray[np.uint32]:
    """What a broadcast chain does to a fingerprint: low bits flip often, any bit now and then."""
    out = values.copy()
    for _ in range(2):
        out ^= np.left_shift(np.uint32(1), RNG.integers(0, 8, size=out.size, dtype=np.uint32))
    some = RNG.random(out.size) < 0.3
    out[some] ^= np.left_shift(np.uint32(1), RNG.integers(0, 32, size=int(some.sum()), dtype=np.uint32))
    return out


class Broadcast:
    """A value stream built piece by piece: noise (speech, off-catalog music) or a recording."""

    def __init__(self) -> None:
        self.values = np.zeros(0, dtype=np.uint32)
        self.next_index = 0

    @property
    def t(self) -> float:
        return self.values.size * STEP

    def other(self, seconds: float) -> Broadcast:
        self.values = np.concatenate(
            [self.values, RNG.integers(0, 2**32, int(seconds / STEP), dtype=np.uint32)]
        )
        return self

    def song(
        self,
        rid: int,
        offset: float | None,
        seconds: float,
        under: int = 0,
        ends: bool = True,
        ber: float = 0.0,
    ) -> Broadcast:
        """``seconds`` of recording ``rid`` from ``offset``; ``under`` seconds at the head masked.

        ``ber``: every bit flips with that probability on top (an AM band, a poor codec): the
        values still agree with the recording, but few keep their exact index key.

        As in Chromaprint, a value sums up the ``VALUE_SPAN_S`` after its time: when the song
        ``ends`` here, the values whose span reaches past its end agree with nothing. An
        ``offset`` of None continues the recording where the previous piece stopped.
        """
        i0 = self.next_index if offset is None else round(offset / STEP)
        part = noisy(REFS[rid][i0 : i0 + int(seconds / STEP)])
        if ber:
            flips = RNG.random((part.size, 32)) < ber
            part ^= (
                (flips * np.left_shift(np.uint64(1), np.arange(32, dtype=np.uint64)))
                .sum(axis=1)
                .astype(np.uint32)
            )
        self.next_index = i0 + part.size
        k = int(under / STEP)
        part[:k] = RNG.integers(0, 2**32, k, dtype=np.uint32)
        if ends:
            tail = round(VALUE_SPAN_S / STEP)
            part[-tail:] = RNG.integers(0, 2**32, tail, dtype=np.uint32)
        self.values = np.concatenate([self.values, part])
        return self

    def crossfade(self, rid: int, offset: float, seconds: float, overlap: float) -> Broadcast:
        """Next song starts ``overlap`` s before the previous ends: the mix agrees with neither."""
        n = int(overlap / STEP)
        third = n // 3
        i0 = round(offset / STEP)
        part = noisy(REFS[rid][i0 : i0 + int(seconds / STEP)])
        mixed = RNG.integers(0, 2**32, n - 2 * third, dtype=np.uint32)
        self.values = np.concatenate([self.values[: self.values.size - n + third], mixed, part[n - third :]])
        return self

    def segments(
        self, run_from: float = 0.0, run_to: float | None = None, first_id: int = 0
    ) -> tuple[list[SegInfo], dict[int, FingerprintSegment]]:
        """10-s segments of one agent run over [run_from, run_to) s of the broadcast, named by
        the real matcher; ids from ``first_id``."""
        index = CatalogIndex()
        for rid, ref in REFS.items():
            index.add(rid, ref)
        index.build()
        segs: list[SegInfo] = []
        fps: dict[int, FingerprintSegment] = {}
        until = self.t if run_to is None else run_to
        n_seg = math.ceil((until - run_from) / SEG_S - 1e-9)
        for k in range(n_seg):
            t0, t1 = run_from + k * SEG_S, min(until, run_from + (k + 1) * SEG_S)
            i0, i1 = math.ceil(t0 / STEP), min(self.values.size, math.ceil(t1 / STEP))
            vals = self.values[i0:i1]
            start = T0 + timedelta(seconds=i0 * STEP)
            sid = first_id + k
            fps[sid] = FingerprintSegment(
                vals, start, CHROMAPRINT_RATE, round(vals.size * STEP * CHROMAPRINT_RATE)
            )
            m = match_values(index, vals)
            info = SegmentMatchInfo(m.recording_id, m.offset_s, start, 0, m.score) if m is not None else None
            segs.append(SegInfo(sid, T0 + timedelta(seconds=t0), T0 + timedelta(seconds=t1), info))
        return segs, fps


def assemble(b: Broadcast) -> list[PlayDraft]:
    segs, fps = b.segments()
    return assemble_segments(segs, fps)


def assemble_segments(segs: list[SegInfo], fps: dict[int, FingerprintSegment]) -> list[PlayDraft]:
    segs = sorted(segs, key=lambda s: (s.start, s.id))

    def values_of(sid: int, rate_ppm: int) -> FingerprintSegment | None:
        return fps.get(sid) if rate_ppm == 0 else None

    drafts = chain(segs, values_of=values_of, refs=REFS)
    for d in drafts:
        refine(d, segs, REFS[d.recording_id], values_of, REFS[d.recording_id].size * STEP)
    trim_overlaps(drafts)
    return drafts


def secs(t: datetime | None) -> float:
    assert t is not None
    return (t - T0).total_seconds()


def test_a_single_matching_window_is_not_a_play() -> None:
    plays = assemble(Broadcast().other(30).song(1, 40, 9).other(40))
    assert plays == []


def test_consecutive_windows_make_one_play_with_exact_boundaries_and_offsets() -> None:
    b = Broadcast().other(23.4)
    t_start = b.t
    b.song(1, 12.0, 95.0)
    t_end = b.t
    b.other(30)
    plays = assemble(b)
    assert len(plays) == 1
    p = plays[0]
    assert p.recording_id == 1
    assert abs(secs(p.start) - t_start) < 0.5
    assert abs(secs(p.end) - t_end) < 0.5
    assert abs(p.offset_at(p.start) - 12.0) < 0.5
    assert abs(p.offset_at(p.end) - 107.0) < 0.5
    assert p.confidence > 0.85


def test_a_second_that_disagrees_at_the_end_of_the_last_named_window_does_not_cut_the_play_short() -> None:
    # a breath of hiss (1.5 s that agree with nothing) ends the last window the matcher named;
    # the song goes on 4 s into the next window, which holds too little of it to be named
    b = Broadcast().other(10)
    b.song(1, 30, 59, ends=False).song(1, None, 1.5, under=1.5, ends=False).song(1, None, 4)
    t_end = b.t
    b.other(30)
    plays = assemble(b)
    assert [p.recording_id for p in plays] == [1]
    assert abs(secs(plays[0].end) - t_end) < 1.0


def test_a_voice_over_on_the_intro_is_bridged() -> None:
    # 20 s under a DJ voice (the fingerprint disagrees), then 25 s clear, 20 s more under
    # the voice, then the rest: one play, from the first second of the song
    b = Broadcast().other(15)
    t_start = b.t
    b.song(2, 0, 20, under=20, ends=False).song(2, None, 25, ends=False)
    b.song(2, None, 20, under=20, ends=False).song(2, None, 60)
    plays = assemble(b)
    assert len(plays) == 1
    assert plays[0].recording_id == 2
    assert secs(plays[0].end) - t_start > 120
    # the head under the voice cannot be seen by the fingerprint: the start is where it becomes audible,
    # or earlier, never later than the first clear second
    assert secs(plays[0].start) <= t_start + 20.5


def test_a_degraded_song_with_one_clear_stretch_is_one_play_from_its_true_start() -> None:
    # through an AM band the fingerprint still agrees with the recording (BER ~0.27) but the
    # matcher names almost no segment: one clear window is enough, its neighbours are then
    # confirmed at its alignment (guided verification), backwards to the song's first second
    b = Broadcast().other(17)
    t_start = b.t
    b.song(1, 0, 45, ber=0.27, ends=False).song(1, None, 20, ends=False).song(1, None, 50, ber=0.27)
    t_end = b.t
    b.other(30)
    segs, _ = b.segments()
    assert sum(s.match is not None for s in segs) <= 3  # the matcher alone: no play, or a late one
    plays = assemble(b)
    assert [p.recording_id for p in plays] == [1]
    assert abs(secs(plays[0].start) - t_start) < 1.0
    assert abs(secs(plays[0].end) - t_end) < 1.0
    assert plays[0].confidence > 0.8  # the matcher's own matches; confirmed ones do not lower it


def test_one_window_heard_twice_after_a_crash_is_still_not_a_play() -> None:
    # the agent died after its segment holding 9 s of a catalog song; the next run's burst
    # repeats that audio in a segment of its own: the same window, not two
    b = Broadcast().other(31).song(1, 40, 9, ends=False).other(40)
    first, fps = b.segments(0, 40)
    again, more = b.segments(30.5, None, first_id=100)
    assert sum(s.match is not None for s in first + again) == 2  # both copies are named
    assert assemble_segments(first + again, fps | more) == []


def test_unrelated_audio_is_not_confirmed_next_to_a_clear_window() -> None:
    # one clear window between off-catalog music: nothing agrees at its alignment, no play
    b = Broadcast().other(40).song(1, 60, 12, ends=False).other(40)
    assert assemble(b) == []


def test_a_genuine_replay_is_two_plays() -> None:
    b = Broadcast().other(12)
    first = b.t
    b.song(3, 0, 70)
    second = b.t
    b.song(3, 0, 70).other(20)
    plays = assemble(b)
    assert [p.recording_id for p in plays] == [3, 3]
    assert abs(secs(plays[0].start) - first) < 0.5
    assert abs(secs(plays[0].end) - second) < 0.5
    assert abs(secs(plays[1].start) - second) < 0.5
    assert abs(plays[1].offset_at(plays[1].start)) < 0.5


def test_a_crossfade_between_two_recordings_meets_in_the_middle() -> None:
    b = Broadcast().other(10).song(1, 30, 80, ends=False)
    end_a = b.t
    b.crossfade(2, 0, 90, overlap=6)
    middle = end_a - 3
    b.other(20)
    plays = assemble(b)
    assert [p.recording_id for p in plays] == [1, 2]
    a, c = plays
    assert a.end is not None and c.start is not None and a.end <= c.start  # no second counted twice
    assert abs(secs(a.end) - middle) < 3.0
    assert abs(secs(c.start) - middle) < 3.0


def test_repeated_content_inside_a_recording_does_not_split_the_play() -> None:
    # game music and dance edits loop: a section that comes back later in the same recording
    # makes single segments match the wrong place; the play must stay whole
    looped = REFS[1].copy()
    loop = int(40 / STEP)
    looped[int(100 / STEP) : int(100 / STEP) + loop] = looped[int(20 / STEP) : int(20 / STEP) + loop]
    saved = REFS[1]
    REFS[1] = looped
    try:
        b = Broadcast().other(10)
        t_start = b.t
        b.song(1, 0, 180)
        plays = assemble(b)
    finally:
        REFS[1] = saved
    assert len(plays) == 1
    assert abs(secs(plays[0].start) - t_start) < 0.5
    assert abs(secs(plays[0].end) - (t_start + 180)) < 0.5


def test_late_segments_revise_an_open_play() -> None:
    b = Broadcast().other(10).song(1, 0, 150).other(20)
    segs, _fps = b.segments()
    gap = [s for s in segs if 40 <= (s.start - T0).total_seconds() < 40 + BRIDGE_S + 20]
    early = [s for s in segs if s not in gap]
    # with a hole longer than the bridge, the song shows as two pieces...
    before = chain(early)
    assert len(before) == 2
    # ...until the missing segments arrive: one play over the whole song
    after = chain(segs)
    assert len(after) == 1
    assert after[0].matched[0].id == before[0].matched[0].id
    assert after[0].matched[-1].id == before[1].matched[-1].id


def test_a_play_becomes_final_once_the_station_was_heard_long_after_it() -> None:
    end = T0 + timedelta(minutes=3)
    now = end + timedelta(minutes=7)
    assert not StationClock(now, latest=end + timedelta(minutes=1), last_received=now).is_final(end)
    assert StationClock(now, latest=end + timedelta(minutes=6), last_received=now).is_final(end)
