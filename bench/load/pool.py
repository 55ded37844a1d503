"""The simulated stations' audio: one programme of real audio, fingerprinted once, that every
station airs from its own point in a loop.

The programme strings together excerpts of catalog songs (wesnoth tracks, imported into the
collector's catalog so that matching and plays really happen), off-catalog songs (the other
game soundtracks bench/music.py allows, never imported) and DJ talk (espeak-ng, French and
English: bench/accuracy/radio.py), in turns: song, talk, song, off-catalog song, ... The
agent's own segmenter (shared.segmenter, 10 s, the station's rate as sent) cuts it into
segments, encoded as the agent encodes them (SFP1 blobs, shared.codec). The programme and
its segments are cached in /tmp/sodav-bench by their recipe, so reruns start at once.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import pickle
import random
import struct
import wave
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from bench.music import CACHE, PACKAGES, WESNOTH, broadcast_tracks, duration, real_segments, tracks
from shared.codec import encode

SONG_S = 150.0  # an excerpt of each song: plays of a few minutes, as radio airs them
TALK_S = 40.0
START_US = struct.Struct("<q")  # shared.codec's header: start_us at bytes 12..20
START_AT = 12


@dataclass(frozen=True)
class PoolSegment:
    """One segment of the programme: its blobs (start to be stamped), length and level, and
    what it is (``catalog`` / ``offcat`` / ``talk``)."""

    blobs: tuple[bytes, ...]
    duration: float
    level_dbfs: float | None
    kind: str


@dataclass(frozen=True)
class Pool:
    segments: list[PoolSegment]
    catalog_csv: Path  # the catalog songs, for ``sodav-collector catalog import``
    catalog_songs: int

    def body_segment(self, index: int, station: str, seq: int, start: datetime) -> dict[str, object]:
        """Segment ``index`` of the loop as the outbox stores it (edge_agent/buffer/outbox.py),
        ``seq`` of ``station``, its blobs stamped with ``start``."""
        seg = self.segments[index % len(self.segments)]
        stamp = START_US.pack(round(start.timestamp() * 1_000_000))
        return {
            "station": station,
            "seq": seq,
            "start": start.astimezone(UTC).isoformat().replace("+00:00", "Z"),
            "duration": round(seg.duration, 6),
            "level_dbfs": None if seg.level_dbfs is None else round(seg.level_dbfs, 2),
            "fingerprints": [
                base64.b64encode(b[:START_AT] + stamp + b[START_AT + START_US.size :]).decode()
                for b in seg.blobs
            ],
        }


def _offcat_tracks(n: int) -> list[Path]:
    others = [t for t in tracks() if not str(t).startswith(WESNOTH)]
    by_package = [[t for t in others if str(t).startswith(p)] for p in PACKAGES[1:]]
    chosen: list[Path] = []
    while len(chosen) < n and any(by_package):
        for group in by_package:
            if group and len(chosen) < n:
                chosen.append(group.pop(0))
    return chosen


def build(songs: int, seed: int = 7) -> Pool:
    """A programme of ``songs`` catalog songs (150 s each), half as many off-catalog songs and
    40 s of talk after each song; cached."""
    from bench.accuracy.radio import talk
    from demo.radio import RATE, decode

    long_enough = [p for p in broadcast_tracks(songs * 8.0) if duration(p) >= SONG_S + 20]
    catalog = long_enough[:songs]
    offcat = _offcat_tracks(max(1, songs // 2))
    recipe = f"{[str(p) for p in catalog]}{[str(p) for p in offcat]}{SONG_S}{TALK_S}{seed}"
    key = hashlib.sha256(recipe.encode()).hexdigest()[:12]
    cache = CACHE / f"load-{key}"
    cache.mkdir(parents=True, exist_ok=True)
    catalog_csv = cache / "catalog.csv"
    with catalog_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "external_id", "title", "artist", "isrc"])
        for i, p in enumerate(catalog):
            w.writerow([str(p), f"LOAD-{i + 1:04d}", p.stem, "wesnoth", f"SNZ9L26{i + 1:05d}"])
    pickled = cache / "segments.pickle"
    if pickled.exists():
        # our own cache, written below from the recipe's audio
        return Pool(pickle.loads(pickled.read_bytes()), catalog_csv, len(catalog))  # noqa: S301

    rng = random.Random(seed)
    pieces: list[tuple[str, np.ndarray]] = []
    for i, song in enumerate(catalog):
        pieces.append(("catalog", decode(song, 20.0, SONG_S)))
        pieces.append(("talk", talk(rng, TALK_S, cache / "tts")))
        if i % 2 == 1 and offcat:
            pieces.append(("offcat", decode(offcat[(i // 2) % len(offcat)], 20.0, SONG_S)))
            pieces.append(("talk", talk(rng, TALK_S, cache / "tts")))
    audio = np.concatenate([p for _, p in pieces])
    wav = cache / "programme.wav"
    with wave.open(str(wav), "wb") as out_wav:
        out_wav.setnchannels(1)
        out_wav.setsampwidth(2)
        out_wav.setframerate(RATE)
        out_wav.writeframes((np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes())
    bounds, t = [], 0.0
    for kind, piece in pieces:
        bounds.append((t, t + piece.size / RATE, kind))
        t += piece.size / RATE

    segs = real_segments(wav, [0])
    origin = segs[0].start
    out = []
    for s in segs:
        mid = (s.start - origin).total_seconds() + s.duration / 2
        kind = next((k for a, b, k in bounds if a <= mid < b), "talk")
        blobs = tuple(encode(fp) for fp in s.fingerprints)
        out.append(PoolSegment(blobs, s.duration, s.level_dbfs, kind))
    pickled.write_bytes(pickle.dumps(out))
    return Pool(out, catalog_csv, len(catalog))
