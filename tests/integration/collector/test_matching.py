"""The matcher on real audio: speech and off-catalog music name nothing; sped-up or slowed-down
catalog music is named through the playback-rate variants, at the right place and rate."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from collector.audio import decode_file
from collector.catalog.service import fingerprint_file
from collector.fleet.variants import FULL_SWEEP
from collector.matching.index import CatalogIndex
from collector.matching.matcher import Match, match_variants
from collector.matching.rates import estimate_rate_ppm
from shared.chroma import CHROMAPRINT_RATE
from shared.codec import decode, encode
from shared.segmenter import Segmenter
from tests.support.audio import excerpt, speech, track

CATALOG = (2, 5, 7)
OFF_CATALOG = 9
T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def index() -> CatalogIndex:
    idx = CatalogIndex()
    for i in CATALOG:
        values = _values_of(track(i))
        idx.add(i, values)
    idx.build()
    return idx


def _values_of(path: Path):  # type: ignore[no-untyped-def]
    blob, _ = fingerprint_file(path)
    return decode(blob).values


def matches(path: Path, index: CatalogIndex) -> list[tuple[float, Match | None]]:
    """(broadcast seconds, match) for every full 10-s segment of a file, through the full sweep."""
    seg = Segmenter(CHROMAPRINT_RATE, 10.0, FULL_SWEEP, T0)
    outs = seg.feed(decode_file(path)) + seg.finish()
    return [
        (
            (o.start - T0).total_seconds(),
            # as the collector gets them: encoded by the agent, decoded on ingest
            match_variants(index, [(f.rate_ppm, decode(encode(f)).values) for f in o.fingerprints]),
        )
        for o in outs
        if o.duration >= 9.9
    ]


def test_speech_matches_nothing(index: CatalogIndex, tmp_path: Path) -> None:
    text = (
        "Bonjour et bienvenue sur la radio. Il est huit heures à Dakar, voici les informations. "
        "Le président a reçu ce matin les représentants des pêcheurs de Kayar et de Joal. "
        "La circulation est dense sur l'autoroute à péage. Restez avec nous, la musique revient."
    )
    found = matches(speech(tmp_path / "news.wav", text + " " + text), index)
    assert len(found) >= 2
    assert [m for _, m in found if m is not None] == []


def test_off_catalog_music_matches_nothing(index: CatalogIndex, tmp_path: Path) -> None:
    clip = excerpt(track(OFF_CATALOG), tmp_path / "off.mp3", 10, 60, af="acompressor=threshold=0.1:ratio=4")
    found = matches(clip, index)
    assert len(found) >= 5
    assert [m for _, m in found if m is not None] == []


@pytest.mark.parametrize(("speed", "variant"), [(1.03, 30000), (0.98, -20000)])
def test_speed_changed_catalog_music_is_named_through_rate_variants(
    index: CatalogIndex, tmp_path: Path, speed: float, variant: int
) -> None:
    # pitch and tempo together, as a station's playout does, then a 96 kbit/s MP3 stream
    chain = f"asetrate=44100*{speed},aresample=44100,acompressor=threshold=0.1:ratio=4:makeup=2"
    begin = 30.0
    clip = excerpt(track(CATALOG[1]), tmp_path / "fast.mp3", begin, 62, af=chain)
    found = matches(clip, index)
    named = [(t, m) for t, m in found if m is not None]
    assert len(found) >= 5
    assert len(named) >= len(found) - 1, found
    for t, m in named:
        assert m.recording_id == CATALOG[1]
        assert m.rate_ppm == variant
        # the recording runs `speed` seconds per broadcast second from `begin`
        assert abs(m.offset_s - (begin + t * speed)) < 1.0


def test_a_rate_between_variants_is_measured(index: CatalogIndex, tmp_path: Path) -> None:
    # -2.5 % sits half-way between two sweep variants: measure it to fingerprint it exactly
    chain = "asetrate=44100*0.975,aresample=44100"
    points = []
    for n, i in enumerate(CATALOG):
        clip = excerpt(track(i), tmp_path / f"slow{n}.mp3", 20, 80, af=chain)
        points += [(n * 1000 + t, m.recording_id, m.offset_s) for t, m in matches(clip, index) if m]
    rate = estimate_rate_ppm(points)
    assert rate is not None and abs(rate + 25000) <= 1000
