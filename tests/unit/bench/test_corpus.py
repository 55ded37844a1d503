"""The accuracy benchmark's corpus: off-catalog music shares no audio with the catalog.

Synthetic pieces of chords: ``themes`` contains 20 s of ``main`` in another piece's setting (a
theme reused in another arrangement), ``arranged`` is the whole of ``main`` under other chords
as loud as it (no 10-s window of it within the matcher's ``MAX_BER``, yet the sequential test
names it), ``other`` shares nothing. Fingerprinted by the real Chromaprint, as the benchmark
fingerprints the Debian soundtracks.
"""

from __future__ import annotations

import json
import wave
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from bench.accuracy.corpus import WINDOW, Track, _with_shares, apart, pair_evidence, scan, split
from collector.matching.index import CatalogIndex
from collector.matching.matcher import verified
from collector.plays.sequential import ACCEPT_LLR
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm


def chords(seconds: float, seed: int) -> np.ndarray:
    """Three random tones every half second, as float samples at Chromaprint's rate."""
    rng = np.random.default_rng(seed)
    step = CHROMAPRINT_RATE // 2
    t = np.arange(step) / CHROMAPRINT_RATE
    blocks = [
        sum(np.sin(2 * np.pi * f * t) for f in rng.uniform(110, 1760, 3)) for _ in range(int(seconds * 2))
    ]
    return np.concatenate(blocks)


def pcm(x: np.ndarray) -> np.ndarray:
    return (x / np.abs(x).max() * 12000).astype(np.int16)


def track(name: str, seconds: float) -> Track:
    return Track(f"/music/{name}.ogg", "test-data", seconds, 0.0, seconds)


def audio() -> list[np.ndarray]:
    main = chords(90, 1)
    themes = np.concatenate(
        [chords(30, 2), main[20 * CHROMAPRINT_RATE : 40 * CHROMAPRINT_RATE], chords(30, 3)]
    )
    return [main, themes, chords(90, 4)]


def pieces() -> list[Track]:
    tracks = [track("main", 90), track("themes", 80), track("other", 90)]
    values = [fingerprint_pcm(pcm(a), CHROMAPRINT_RATE) for a in audio()]
    return _with_shares(tracks, values, log=lambda _: None)


def test_a_piece_that_reuses_part_of_another_shares_audio_with_it() -> None:
    main, themes, other = pieces()
    assert main.shares == (themes.path,)
    assert themes.shares == (main.path,)
    assert other.shares == ()


def fingerprint(x: np.ndarray) -> np.ndarray:
    return fingerprint_pcm(pcm(x), CHROMAPRINT_RATE)


def test_an_arrangement_no_window_names_shares_audio_by_the_sequential_test() -> None:
    main = chords(90, 1)
    values = [fingerprint(main), fingerprint(main + 1.2 * chords(90, 5)), fingerprint(chords(90, 4))]
    index = CatalogIndex()
    index.add(0, values[0])
    index.build()
    arranged = values[1]
    windows = range(0, arranged.size - WINDOW, WINDOW // 2)
    assert not any(verified(index, arranged[a : a + WINDOW], probe=True) for a in windows)
    assert min(pair_evidence(arranged, values[0])) >= ACCEPT_LLR  # either way round
    assert max(pair_evidence(values[2], values[0])) < ACCEPT_LLR
    assert max(pair_evidence(values[2], arranged)) < ACCEPT_LLR

    main_t, arranged_t, other_t = _with_shares(
        [track("main", 90), track("arranged", 90), track("other", 90)], values, log=lambda _: None
    )

    assert main_t.shares == (arranged_t.path,) and arranged_t.shares == (main_t.path,)
    assert other_t.shares == ()


def test_the_catalog_never_holds_two_pieces_that_share_audio() -> None:
    main, themes, other = pieces()
    for seed in range(20):
        catalog, offcat = split([main, themes, other], seed, catalog_fraction=0.67)
        assert len(catalog) == 2 and {main.path, themes.path} - {t.path for t in catalog}
        assert other in catalog and offcat == []


def test_off_catalog_music_never_shares_audio_with_the_catalog() -> None:
    main, themes, other = pieces()
    assert apart([themes, other], [main]) == [other]
    assert apart([main, other], [themes]) == [other]
    for seed in range(20):
        catalog, offcat = split([main, themes, other], seed, catalog_fraction=0.34)
        shared = {p for t in catalog for p in t.shares}
        assert not shared.intersection(t.path for t in offcat)
        assert len(catalog) == 1


def test_a_cache_from_before_the_check_keeps_its_tracks_and_is_checked_again(tmp_path: Path) -> None:
    tracks = []
    for t, samples in zip(pieces(), audio(), strict=True):
        path = tmp_path / Path(t.path).name
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(CHROMAPRINT_RATE)
            w.writeframes(pcm(samples).tobytes())
        tracks.append(replace(t, path=str(path), shares=()))
    cache = tmp_path / "corpus.json"
    old = [{k: v for k, v in asdict(t).items() if k != "shares"} for t in tracks]
    # written by the window-by-window check: its pairs are judged again
    cache.write_text(
        json.dumps({"songs": old, "short": [], "dropped": ["/music/remix.ogg"], "shared_audio_checked": True})
    )

    songs, short = scan(cache, log=lambda _: None)

    assert [t.path for t in songs] == [t.path for t in tracks] and short == []
    main, themes, other = songs
    assert (main.shares, themes.shares, other.shares) == ((themes.path,), (main.path,), ())
    data = json.loads(cache.read_text())
    assert data["shared_audio_check"] == "sequential" and data["dropped"] == ["/music/remix.ogg"]
    assert scan(cache, log=lambda _: None) == (songs, short)
