"""The benchmark's music: real soundtracks from five Debian packages, deduplicated and split.

Only ``wesnoth-1.16-music``, ``supertux-data``, ``hedgewars-data``, ``frozen-bubble-data`` and
``freedroidrpg-data`` are used; files are found with ``dpkg -L``. Game soundtracks contain
near-copies (a track and its remix or its short loop); those would make "off-catalog" music
legitimately match the catalog, so every track whose fingerprint matches an earlier one is
dropped before the split. Each track's audible span (leading and trailing silence removed)
is what the programme plays, so the ground truth never counts silence as music.
"""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from collector.audio import decode_file
from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_values
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm
from shared.progress import Progress

PACKAGES = (
    "wesnoth-1.16-music",
    "supertux-data",
    "hedgewars-data",
    "frozen-bubble-data",
    "freedroidrpg-data",
)
SONG_MIN_S = 60.0  # shorter pieces become jingles and ad beds
SILENCE_DBFS = -45.0


@dataclass(frozen=True)
class Track:
    path: str
    package: str
    duration: float
    audible_start: float
    audible_end: float

    @property
    def stem(self) -> str:
        return Path(self.path).stem


def package_audio(package: str) -> list[str]:
    out = subprocess.run(["dpkg", "-L", package], capture_output=True, text=True, check=False).stdout
    if not out:
        raise SystemExit(f"bench: Debian package {package} is not installed: apt-get install {package}")
    files = [line for line in out.splitlines() if line.endswith(".ogg") and Path(line).is_file()]
    if package == "frozen-bubble-data":
        return files  # music and effects live together in snd/
    return [f for f in files if "/music/" in f.lower()]


def _audible(pcm: np.ndarray) -> tuple[float, float]:
    win = CHROMAPRINT_RATE // 10
    n = pcm.size // win
    if n == 0:
        return 0.0, pcm.size / CHROMAPRINT_RATE
    x = pcm[: n * win].astype(np.float64).reshape(n, win) / 32768.0
    db = 10 * np.log10(np.mean(x * x, axis=1) + 1e-12)
    loud = np.nonzero(db > SILENCE_DBFS)[0]
    if loud.size == 0:
        return 0.0, 0.0
    return loud[0] * win / CHROMAPRINT_RATE, (loud[-1] + 1) * win / CHROMAPRINT_RATE


def scan(  # type: ignore[no-untyped-def]
    cache: Path, log=print, per_package: int | None = None
) -> tuple[list[Track], list[Track]]:
    """(songs, short pieces), deduplicated; cached in ``cache`` as JSON.

    ``per_package``: only the first N files of each package (a smoke run's corpus).
    """
    if cache.exists():
        data = json.loads(cache.read_text())
        return [Track(**t) for t in data["songs"]], [Track(**t) for t in data["short"]]
    index = CatalogIndex()
    kept: list[Track] = []
    dropped: list[str] = []
    files = [(package, path) for package in PACKAGES for path in sorted(package_audio(package))[:per_package]]
    bar = Progress("scanning the music", len(files), " files")
    for package, path in files:
        bar.step(Path(path).name)
        try:
            pcm = decode_file(path)
        except ValueError:
            continue
        a0, a1 = _audible(pcm)
        if a1 - a0 < 3:
            continue
        values = fingerprint_pcm(pcm, CHROMAPRINT_RATE)
        duplicate = False
        if len(index):
            # three 10-s probes; one that names an earlier track makes this one a copy
            for frac in (0.2, 0.5, 0.8):
                i = int(values.size * frac)
                probe = values[i : i + 80]
                if probe.size >= 40 and match_values(index, probe) is not None:
                    duplicate = True
                    break
        if duplicate:
            dropped.append(path)
            continue
        index.add(len(kept), values)
        index.build()
        kept.append(Track(path, package, pcm.size / CHROMAPRINT_RATE, a0, a1))
    bar.done()
    log(f"corpus: {len(kept)} distinct pieces, {len(dropped)} near-copies dropped")
    songs = [t for t in kept if t.audible_end - t.audible_start >= SONG_MIN_S]
    short = [t for t in kept if t.audible_end - t.audible_start < SONG_MIN_S]
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps(
            {"songs": [asdict(t) for t in songs], "short": [asdict(t) for t in short], "dropped": dropped}
        )
    )
    return songs, short


def split(songs: list[Track], seed: int, catalog_fraction: float = 0.7) -> tuple[list[Track], list[Track]]:
    """(catalog, off-catalog), a seeded shuffle so every run uses the same split."""
    order = sorted(songs, key=lambda t: t.path)
    random.Random(seed).shuffle(order)
    n = round(len(order) * catalog_fraction)
    return order[:n], order[n:]
