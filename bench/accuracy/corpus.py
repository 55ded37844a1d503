"""The benchmark's music: real soundtracks from five Debian packages, deduplicated and split.

Only ``wesnoth-1.16-music``, ``supertux-data``, ``hedgewars-data``, ``frozen-bubble-data`` and
``freedroidrpg-data`` are used; files are found with ``dpkg -L``. Game soundtracks contain
near-copies (a track and its remix or its short loop); those would make "off-catalog" music
legitimately match the catalog, so every track whose fingerprint matches an earlier one is
dropped before the split. A copy can also be partial: two tracks that share only some of their
audio (a theme reused in another arrangement) keep their own fingerprints at the three probes.
So every 10-s window of every kept track is looked up among the others (multi-probe keys, the
matcher's own ``MAX_BER``), and the tracks any window names are recorded as sharing audio with
it; the split keeps such a track out of the off-catalog music when one it shares with is in the
catalog, since the matcher rightly names that audio. Each track's audible span (leading and
trailing silence removed) is what the programme plays, so the ground truth never counts silence
as music.
"""

from __future__ import annotations

import json
import random
import subprocess
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from collector.audio import decode_file
from collector.matching.index import CatalogIndex
from collector.matching.matcher import match_values, verified
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
WINDOW = 80  # values (about 10 s, a segment) per lookup of the shared-audio check


@dataclass(frozen=True)
class Track:
    path: str
    package: str
    duration: float
    audible_start: float
    audible_end: float
    shares: tuple[str, ...] = ()  # paths of the other kept tracks that share audio with this one

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
    """(songs, short pieces), deduplicated, each with the tracks it shares audio with; cached
    in ``cache`` as JSON.

    ``per_package``: only the first N files of each package (a smoke run's corpus).
    A cache written before the shared-audio check keeps its tracks; the check is added to it.
    """
    if cache.exists():
        data = json.loads(cache.read_text())
        songs, short = [_track(t) for t in data["songs"]], [_track(t) for t in data["short"]]
        if data.get("shared_audio_checked"):
            return songs, short
        kept = [*songs, *short]
        bar = Progress("fingerprinting the music again", len(kept), " files")
        values = []
        for t in kept:
            bar.step(t.stem)
            values.append(_fingerprint(decode_file(t.path)))
        bar.done()
        songs, short = _split_short(_with_shares(kept, values, log))
        _write(cache, songs, short, data["dropped"])
        return songs, short
    index = CatalogIndex()
    kept: list[Track] = []
    values_kept: list[np.ndarray] = []
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
        values = _fingerprint(pcm)
        duplicate = False
        if len(index):
            # three 10-s probes; one that names an earlier track makes this one a copy
            for frac in (0.2, 0.5, 0.8):
                i = int(values.size * frac)
                probe = values[i : i + WINDOW]
                if probe.size >= 40 and match_values(index, probe) is not None:
                    duplicate = True
                    break
        if duplicate:
            dropped.append(path)
            continue
        index.add(len(kept), values)
        index.build()
        kept.append(Track(path, package, pcm.size / CHROMAPRINT_RATE, a0, a1))
        values_kept.append(values)
    bar.done()
    log(f"corpus: {len(kept)} distinct pieces, {len(dropped)} near-copies dropped")
    songs, short = _split_short(_with_shares(kept, values_kept, log))
    _write(cache, songs, short, dropped)
    return songs, short


def _track(stored: dict) -> Track:  # type: ignore[type-arg]
    return Track(**{**stored, "shares": tuple(stored.get("shares", ()))})  # JSON keeps lists


def _fingerprint(pcm: np.ndarray) -> np.ndarray:
    return fingerprint_pcm(pcm, CHROMAPRINT_RATE)


def _with_shares(kept: list[Track], values: list[np.ndarray], log) -> list[Track]:  # type: ignore[no-untyped-def]
    """``kept`` with ``shares`` filled: every 10-s window of each track (5-s hop) looked up among
    all the others as the matcher looks a segment up, a window named makes the pair share audio."""
    index = CatalogIndex()
    for i, v in enumerate(values):
        index.add(i, v)
    index.build()
    shares: list[set[int]] = [set() for _ in kept]
    for i, v in enumerate(values):
        for a in range(0, max(1, v.size - WINDOW + 1), WINDOW // 2):
            for m in verified(index, v[a : a + WINDOW], probe=True):
                if m.recording_id != i:
                    shares[i].add(m.recording_id)
                    shares[m.recording_id].add(i)
    pairs = sorted({(min(i, j), max(i, j)) for i, js in enumerate(shares) for j in js})
    log(
        f"corpus: {len(pairs)} pairs of pieces share audio"
        + "".join(f"; {kept[i].stem} and {kept[j].stem}" for i, j in pairs)
    )
    return [replace(t, shares=tuple(sorted(kept[j].path for j in shares[i]))) for i, t in enumerate(kept)]


def _split_short(kept: list[Track]) -> tuple[list[Track], list[Track]]:
    songs = [t for t in kept if t.audible_end - t.audible_start >= SONG_MIN_S]
    short = [t for t in kept if t.audible_end - t.audible_start < SONG_MIN_S]
    return songs, short


def _write(cache: Path, songs: list[Track], short: list[Track], dropped: list[str]) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_text(
        json.dumps(
            {
                "songs": [asdict(t) for t in songs],
                "short": [asdict(t) for t in short],
                "dropped": dropped,
                "shared_audio_checked": True,
            }
        )
    )


def apart(pieces: list[Track], catalog: list[Track]) -> list[Track]:
    """The ``pieces`` that share no audio with a catalog track (off-catalog music must give nothing)."""
    paths = {t.path for t in catalog}
    return [t for t in pieces if not paths.intersection(t.shares)]


def split(songs: list[Track], seed: int, catalog_fraction: float = 0.7) -> tuple[list[Track], list[Track]]:
    """(catalog, off-catalog), a seeded shuffle so every run uses the same split; a song that
    shares audio with a catalog song is left out of the off-catalog music."""
    order = sorted(songs, key=lambda t: t.path)
    random.Random(seed).shuffle(order)
    n = round(len(order) * catalog_fraction)
    return order[:n], apart(order[n:], order[:n])
