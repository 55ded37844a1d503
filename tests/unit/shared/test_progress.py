"""The progress bar of the demo and the benchmarks, as it reads in a log and on a terminal."""

from __future__ import annotations

import io

from shared.progress import Progress, eta


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def started_seconds_ago(bar: Progress, seconds: float) -> Progress:
    bar.t0 -= seconds
    return bar


def test_a_log_gets_a_line_every_tenth_with_an_estimate() -> None:
    log = io.StringIO()
    bar = started_seconds_ago(Progress("fingerprinting", 200, " tracks", stream=log), 10)
    for n in range(0, 201, 5):
        bar.update(n)
    bar.done()
    lines = log.getvalue().splitlines()
    assert len(lines) == 12  # 0 %, 10 % ... 100 %, and how long it took
    assert lines[5].startswith("fingerprinting [############............]  50% 100/200 tracks")
    assert lines[5].endswith("s left)")
    assert lines[10].endswith("100% 200/200 tracks")  # no estimate once done
    assert lines[11].startswith("fingerprinting: done in ")


def test_a_terminal_line_is_redrawn_in_place_and_cleared() -> None:
    tty = Terminal()
    bar = started_seconds_ago(Progress("streaming", 10, stream=tty), 2)
    bar.step("first")
    bar.step("second")
    bar.clear()
    out = tty.getvalue()
    assert "\n" not in out and out.count("\r\033[K") == 3
    assert "10% 1/10 second" in out


def test_work_that_ends_within_a_second_prints_nothing() -> None:
    log = io.StringIO()
    bar = Progress("quick", 3, stream=log)
    for _ in range(3):
        bar.step()
    bar.done()
    assert log.getvalue() == ""


def test_estimate() -> None:
    assert eta(30, 1, 4) == "about 1 min 30 s left"
    assert eta(3, 3, 4) == "about 1 s left"
    assert eta(3, 0, 4) == "" and eta(3, 4, 4) == ""
