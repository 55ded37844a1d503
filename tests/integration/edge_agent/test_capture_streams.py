"""Capture from real servers: Icecast (MP3, Ogg), ICY titles, HLS, a corrupt file, silence."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from edge_agent.capture.station import StationCapture
from edge_agent.config import HealthSettings, StationSettings
from tests.fixtures.streams import Hls, icecast
from tests.support.audio import excerpt, track
from tests.support.sink import RecordingSink

pytestmark = pytest.mark.slow
HEALTH = HealthSettings(
    stall_seconds=3, reconnect_initial_s=0.3, reconnect_max_s=1, silence_seconds=2, silence_dbfs=-50
)


def _start(station: StationSettings, sink: RecordingSink, health: HealthSettings = HEALTH):
    cap = StationCapture(station, 11025, health, sink)
    stop = threading.Event()
    thread = threading.Thread(target=cap.run, args=(stop,), daemon=True)
    thread.start()
    return cap, stop, thread


def _wait(pred, timeout: float = 20.0) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


def test_icecast_restart_is_one_outage_and_no_invented_audio(tmp_path: Path) -> None:
    audio = excerpt(track(3), tmp_path / "a.mp3", 0, 60)
    with icecast(tmp_path / "ice") as ice:
        ice.feed(audio, "live.mp3")
        sink = RecordingSink()
        cap, stop, thread = _start(StationSettings(slug="ice", url=ice.url("live.mp3")), sink)
        t0 = time.monotonic()
        assert _wait(lambda: sink.seconds() > 3)
        ice.kill()
        killed = time.monotonic()
        assert _wait(lambda: len(sink.of_kind("outage")) == 1, 15)
        time.sleep(2)
        ice.start()
        ice.feed(audio, "live.mp3")
        assert _wait(lambda: len(sink.runs) == 2 and sink.samples[2] > 11025 * 3, 30)
        stop.set()
        thread.join(10)
        wall = time.monotonic() - t0
    outages = sink.of_kind("outage")
    # opened when the stream dropped, closed (same key) when audio returned
    assert [o["end"] is None for o in outages] == [True, False]
    assert outages[0]["key"] == outages[1]["key"]
    gap = (outages[1]["end"] - outages[1]["start"]).total_seconds()  # type: ignore[operator]
    assert gap >= 1.5
    assert sink.runs[2] >= outages[1]["end"]  # the second run starts after the gap, never stitched
    # never more audio than wall time (ffmpeg -re feeds in real time; allow the server's burst)
    assert sink.seconds() <= wall + 5
    assert cap.health.snapshot().codec in ("mp3float", "mp3")
    _ = killed


def test_icy_titles_and_ogg_vorbis(tmp_path: Path) -> None:
    audio = excerpt(track(4), tmp_path / "b.mp3", 0, 40)
    with icecast(tmp_path / "ice") as ice:
        ice.feed(audio, "mp3")
        ice.feed(audio, "ogg", fmt="ogg")
        sink, sink_ogg = RecordingSink(), RecordingSink()
        cap, stop, thread = _start(StationSettings(slug="mp3", url=ice.url("mp3")), sink)
        cap2, stop2, thread2 = _start(StationSettings(slug="ogg", url=ice.url("ogg")), sink_ogg)
        assert _wait(lambda: sink.seconds() > 1 and sink_ogg.seconds() > 1)
        ice.set_title("mp3", "Youssou N'Dour - 7 Seconds")
        assert _wait(
            lambda: any(e.get("title") == "Youssou N'Dour - 7 Seconds" for e in sink.of_kind("metadata"))
        )
        ice.set_title("mp3", "Baaba Maal – Yéla")
        assert _wait(lambda: any(e.get("title") == "Baaba Maal – Yéla" for e in sink.of_kind("metadata")))
        for s in (stop, stop2):
            s.set()
        thread.join(10)
        thread2.join(10)
    assert cap.health.snapshot().icy_title == "Baaba Maal – Yéla"
    assert cap2.health.snapshot().codec == "vorbis"
    assert sink_ogg.seconds() > 1


def test_hls_live_stream(tmp_path: Path) -> None:
    audio = excerpt(track(5), tmp_path / "c.mp3", 0, 40)
    hls = Hls(audio, tmp_path / "hls")
    try:
        sink = RecordingSink()
        cap, stop, thread = _start(StationSettings(slug="hls", url=hls.url), sink)
        assert _wait(lambda: sink.seconds() > 4, 30)
        stop.set()
        thread.join(10)
    finally:
        hls.close()
    assert cap.health.snapshot().codec == "aac"
    assert StationSettings(slug="x", url=hls.url).kind == "hls"


def test_corrupt_bytes_do_not_stop_the_station(tmp_path: Path) -> None:
    good = excerpt(track(6), tmp_path / "d.mp3", 0, 30).read_bytes()
    bad = tmp_path / "corrupt.mp3"
    third = len(good) // 3
    bad.write_bytes(good[:third] + bytes(range(256)) * 200 + good[third:])
    sink = RecordingSink()
    _cap, _stop, thread = _start(StationSettings(slug="f", path=bad, realtime=False), sink)
    thread.join(30)
    assert sink.seconds() > 27  # the whole file but the garbage
    assert not sink.of_kind("outage")


def test_silence_is_reported_with_start_and_end(tmp_path: Path) -> None:
    src = excerpt(
        track(7), tmp_path / "e.wav", 0, 20, codec="wav", af="volume=enable='between(t,6,12)':volume=0"
    )
    sink = RecordingSink()
    _cap, _stop, thread = _start(StationSettings(slug="s", path=src, realtime=False), sink)
    thread.join(30)
    silences = sink.of_kind("silence")
    assert [e["end"] is None for e in silences] == [True, False]
    start = silences[1]["start"] - sink.runs[1]  # type: ignore[operator]
    end = silences[1]["end"] - sink.runs[1]  # type: ignore[operator]
    assert abs(start.total_seconds() - 6) < 1.0
    assert abs(end.total_seconds() - 12) < 1.0
    assert isinstance(start, timedelta)
