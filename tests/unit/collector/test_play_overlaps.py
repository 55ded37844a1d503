"""A rebuild's plays never share airtime with the plays it leaves in place.

The worker reassembles a station's open plays; its final plays stay as they are. A play
rebuilt later (a learned recording grown, a late segment) whose start is moved back over
unmatched audio must not reach into a final play before it: the week benchmark showed a song
joined late credited from 21 s inside the song before it (both plays counted that airtime).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from collector.plays.boundaries import clear_of
from collector.plays.draft import PlayDraft

T = datetime(2026, 12, 1, 6, 13, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T + timedelta(seconds=seconds)


def draft(recording: int, start: float, end: float) -> PlayDraft:
    d = PlayDraft(recording, 0, at(start), 0.0)
    d.start, d.end = at(start), at(end)
    return d


def test_a_play_moved_back_into_a_final_play_starts_where_that_play_ends() -> None:
    kept = [(at(-138.0), at(32.5))]  # the song before, final, its end at 06:13:32.5
    late = draft(12, 10.9, 102.8)  # moved back to 06:13:10.9, over an ad and that song's tail
    (out,) = clear_of([late], kept)
    assert (out.start, out.end) == (at(32.5), at(102.8))
    assert out.offset_at(out.start) == 32.5 - 10.9  # the recording's offset follows the start


def test_a_play_reaching_into_a_later_final_play_ends_where_it_starts() -> None:
    (out,) = clear_of([draft(3, 0.0, 200.0)], [(at(180.0), at(400.0))])
    assert (out.start, out.end) == (at(0.0), at(180.0))


def test_a_draft_with_no_airtime_of_its_own_is_dropped_and_others_are_untouched() -> None:
    kept = [(at(0.0), at(100.0))]
    inside, clear = draft(5, 20.0, 60.0), draft(6, 100.0, 250.0)
    assert clear_of([inside, clear], kept) == [clear]
    assert (clear.start, clear.end) == (at(100.0), at(250.0))
