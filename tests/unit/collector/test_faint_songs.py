"""A song heard at a voice-over's bit error rate from end to end (issue #17, seed 8's `am-narrow`).

A quiet piece 18 dB over an AM band's hiss sits at a BER of 0.39-0.43 in every window, where
the sequential test's model (true windows at 0.30) takes each one as evidence against; only a
window or two, less degraded, are named by the matcher, too far apart for chaining to bridge.
Same synthetic broadcasts as test_assembly, through the service's order of steps.
"""

from __future__ import annotations

import zlib

import numpy as np
import numpy.typing as npt
import pytest

from collector.matching.index import CatalogIndex
from collector.plays.chaining import BRIDGE_S
from collector.plays.draft import PlayDraft, SegInfo, ValuesOf
from tests.unit.collector.test_assembly import REFS, RNG, STEP, Broadcast, secs
from tests.unit.collector.test_hard_cases import assemble, hand_named

FAINT = 0.395  # bits flipped on top of the chain's noise: windows at ~0.41 from the recording
ANCHOR = 0.19  # a less degraded window: ~0.24, what the matcher still names


@pytest.fixture(autouse=True)
def _draws_of_its_own(request: pytest.FixtureRequest) -> None:
    RNG.bit_generator.state = np.random.default_rng(
        zlib.crc32(request.node.name.encode())
    ).bit_generator.state


def assembled(segs: list[SegInfo], values_of: ValuesOf) -> list[PlayDraft]:
    index = CatalogIndex()
    for rid, ref in REFS.items():
        index.add(rid, ref)
    index.build()
    return assemble(segs, index, values_of)


def quiet_song(b: Broadcast, rid: int, anchors: tuple[int, ...]) -> tuple[float, float]:
    """150 s of ``rid`` from its start at a voice-over's BER, but for the 10-s windows that
    begin at ``anchors`` (seconds into the song: less degraded); its start and end."""
    t_start = b.t
    at = 0
    for a in (*anchors, 150):
        if a > at:
            b.song(rid, None if at else 0, a - at, ber=FAINT, ends=a == 150)
        if a < 150:
            b.song(rid, None if a else 0, 10, ber=ANCHOR, ends=False)
        at = a + 10
    return t_start, b.t


def test_a_quiet_song_with_two_faint_matches_in_step_too_far_apart_to_bridge_is_one_play() -> None:
    b = Broadcast().other(20)
    t_start, t_end = quiet_song(b, 3, (40, 120))  # the matcher names the windows at 60 s and 140 s
    b.other(40)
    segs, values_of = hand_named(b, {6: (3, -20.0), 14: (3, -20.0)})
    assert all(1.0 - s.match.score > 0.15 for s in segs if s.match)  # faint, both
    assert (segs[14].start - segs[6].end).total_seconds() > BRIDGE_S
    plays = assembled(segs, values_of)
    assert [p.recording_id for p in plays] == [3]
    assert abs(secs(plays[0].start) - t_start) < 3.0
    assert abs(secs(plays[0].end) - t_end) < 3.0


def test_a_quiet_song_with_one_faint_match_or_two_out_of_step_is_no_play() -> None:
    # two blind matches of one recording in step are what a faint run needs: one alone, or two
    # that name the recording at alignments 30 s apart, is what chance gives
    for names in ({6: (3, -20.0)}, {6: (3, -20.0), 14: (3, 10.0)}):
        b = Broadcast().other(20)
        quiet_song(b, 3, (40, 120))
        b.other(40)
        segs, values_of = hand_named(b, names)
        assert assembled(segs, values_of) == []


def looping(rid: int, period: float, changed: float) -> npt.NDArray[np.uint32]:
    """Recording ``rid`` made a loop: every value repeats the one ``period`` seconds before it,
    ``changed`` of its bits flipped (a bar played again, a little different)."""
    looped = REFS[rid].copy()
    p = int(period / STEP)
    bits = np.left_shift(np.uint64(1), np.arange(32, dtype=np.uint64))
    for i in range(p, looped.size):
        flips = RNG.random(32) < changed
        looped[i] = looped[i - p] ^ np.uint32(int((flips * bits).sum()))
    return looped


def test_a_looping_song_keeps_its_own_alignment_to_its_end_against_the_loops_next_repeat() -> None:
    # a song that loops every 12 s, played to its end, then 12 s of music that agrees faintly
    # with its last bar (seed 8's `oriental`, 13.5 s short on main): the loop's next repeat, 12 s
    # off, agrees with the whole song too (BER ~0.23 against ~0.17), and a seed in the music
    # after it, where the true alignment is over, proposes only that one
    for draw in range(12):
        RNG.bit_generator.state = np.random.default_rng(draw).bit_generator.state
        saved = REFS[2]
        REFS[2] = looping(2, 12.0, 0.1)
        try:
            b = Broadcast().other(20)
            b.song(2, 55, 145, ber=0.12, ends=False)
            t_end = b.t
            b.song(2, 188, 12, ber=0.36)
            b.other(40)
            segs, values_of = hand_named(b, {5: (2, 35.0), 9: (2, 35.0)})
            plays = assembled(segs, values_of)
        finally:
            REFS[2] = saved
        assert [p.recording_id for p in plays] == [2], f"draw {draw}"
        assert abs(plays[0].offset_at(plays[0].start) - secs(plays[0].start) - 35.0) < 1.0, f"draw {draw}"
        assert abs(secs(plays[0].end) - t_end) < 3.0, f"draw {draw}"
