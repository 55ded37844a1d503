"""Music or not, on real audio: a song is music, talk, an ad break and dead air are not, and
the 12 s a paid lookup would get lie on the song."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from collector import musicness
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm, item_duration
from shared.segmenter import Segmenter
from tests.support.audio import excerpt, pcm11k, speech, track

RATE = CHROMAPRINT_RATE
T0 = datetime(2026, 1, 1, tzinfo=UTC)
LINES = [
    "Bonjour Dakar, il est dix heures, restez avec nous pour le journal.",
    "Grande promotion au marché Sandaga, tout à moitié prix ce week-end, venez nombreux.",
    "Merci pour vos messages, on continue avec les nouvelles de la région de Thiès.",
    "Traffic is heavy on the coastal road this morning, take the corniche instead.",
]


@pytest.fixture(scope="module")
def talk(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    """Ninety seconds of a newsreader: espeak-ng lines with short pauses."""
    tmp = tmp_path_factory.mktemp("talk")
    parts = []
    while sum(p.size for p in parts) < 90 * RATE:
        for i, line in enumerate(LINES):
            parts.append(pcm11k(speech(tmp / f"{i}.wav", line, "fr" if i < 3 else "en")))
            parts.append(np.zeros(RATE // 3, dtype=np.int16))
    return np.concatenate(parts)[: 90 * RATE]


def _song(tmp_path: Path, seconds: float, begin: float = 20) -> np.ndarray:
    return pcm11k(excerpt(track(3), tmp_path / "song.mp3", begin, seconds))


def _pieces(pcm: np.ndarray) -> list[musicness.Piece]:
    """Ten-second segments with their levels, fed in the agent's quarter-second blocks."""
    segmenter = Segmenter(RATE, 10.0, [0], T0)
    segs = []
    for i in range(0, pcm.size, RATE // 4):
        segs += segmenter.feed(pcm[i : i + RATE // 4])
    segs += segmenter.finish()
    step = item_duration(0)
    return [
        musicness.Piece(s.start, s.duration, s.level_dbfs, np.asarray(s.fingerprints[0].values), step)
        for s in segs
    ]


def _spans(pcm: np.ndarray) -> list[musicness.Span]:
    return musicness.music_spans(fingerprint_pcm(pcm, RATE), item_duration(0))


def test_talk_is_not_music(talk: np.ndarray) -> None:
    assert _spans(talk) == []


def test_a_song_is_music_and_its_excerpt_lies_on_it(tmp_path: Path, talk: np.ndarray) -> None:
    song = _song(tmp_path, 70)
    programme = np.concatenate([talk[: 40 * RATE], song, talk[40 * RATE :]])
    (span,) = _spans(programme)
    assert span.score > musicness.SPAN_MARGIN
    # the song is at 40-110 s: the span keeps to it, within a window
    assert 35 <= span.start <= 45 and 105 <= span.end <= 115
    assert 40 <= span.excerpt[0] and span.excerpt[1] <= 110
    assert span.excerpt[1] - span.excerpt[0] == pytest.approx(musicness.EXCERPT_S)


def test_music_shorter_than_the_floor_is_not_sent(tmp_path: Path, talk: np.ndarray) -> None:
    jingle = _song(tmp_path, 12)
    assert _spans(np.concatenate([talk[: 30 * RATE], jingle, talk[30 * RATE : 60 * RATE]])) == []


def test_silence_and_dead_air_are_not_music(tmp_path: Path) -> None:
    assert _spans(np.zeros(60 * RATE, dtype=np.int16)) == []
    hiss = (np.random.default_rng(1).standard_normal(60 * RATE) * 20).astype(np.int16)  # about -64 dBFS
    pieces = _pieces(hiss)
    assert all(p.level_dbfs is not None and p.level_dbfs < musicness.SILENT_DBFS for p in pieces)
    assert musicness.spans_of_segments(pieces) == []


def test_segments_give_absolute_times_and_gaps_split_runs(tmp_path: Path, talk: np.ndarray) -> None:
    song = _song(tmp_path, 60)
    pieces = _pieces(np.concatenate([talk[: 30 * RATE], song]))
    ((start, end, _span),) = musicness.spans_of_segments(pieces)
    assert T0 + timedelta(seconds=25) <= start <= T0 + timedelta(seconds=35) and end > T0 + timedelta(
        seconds=80
    )
    # a matched song (or an outage) between two runs: each run is judged on its own
    late = [
        musicness.Piece(p.start + timedelta(hours=1), p.duration, p.level_dbfs, p.values, p.step_s)
        for p in pieces[5:]
    ]
    assert len(musicness.spans_of_segments(pieces[:4] + late)) == 1
