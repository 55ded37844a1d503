"""The benchmark's music: real soundtracks from five Debian packages, deduplicated and split.

Only ``wesnoth-1.16-music``, ``supertux-data``, ``hedgewars-data``, ``frozen-bubble-data`` and
``freedroidrpg-data`` are used; files are found with ``dpkg -L``. Game soundtracks contain
near-copies (a track and its remix or its short loop); those would make "off-catalog" music
legitimately match the catalog, so every track whose fingerprint matches an earlier one is
dropped before the split. A copy can also be partial: two tracks that share only some of their
audio (a theme reused in another arrangement) keep their own fingerprints at the three probes.
So every pair of kept tracks is judged with the pipeline's own evidence: every 10-s window of
one looked up among the others as the matcher looks a segment up (multi-probe keys, its
``MAX_BER``), and every alignment of each against the other scanned as the sequential test of
:mod:`collector.plays.sequential` tests a seed's (a 30-s seed within ``SEED_MAX_BER``, its
neighbours' window LLRs summed to ``ACCEPT_LLR``): an arrangement of a theme at the same tempo
is named that way though no single window of it is within ``MAX_BER``. Either makes the pair
share audio; the split never puts both in the catalog, and keeps a track out of the
off-catalog music when one it shares with is in the catalog, since the pipeline rightly names
that audio. Each track's audible span (leading and trailing silence removed) is what the
programme plays, so the ground truth never counts silence as music.
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
from collector.plays.sequential import ACCEPT_LLR, QUERY_SEGMENTS, SEED_MAX_BER, window_llr
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
SHIFTS = 2  # the sequential test's window BER is the best of ±2 values about the alignment
CHECK = "sequential"  # the shared-audio check a cache was written with
_GRID = np.linspace(0.0, 1.0, 2001)
_LLR = np.array([window_llr(float(x)) for x in _GRID])  # piecewise linear: interpolated to 0.01 nat


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
    A cache written before this shared-audio check keeps its tracks; the check is done again.
    """
    if cache.exists():
        data = json.loads(cache.read_text())
        songs, short = [_track(t) for t in data["songs"]], [_track(t) for t in data["short"]]
        if data.get("shared_audio_check") == CHECK:
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
    all the others as the matcher looks a segment up, and every pair tested both ways as the
    sequential test would (:func:`pair_evidence`); a window named or a run accepted makes the
    pair share audio."""
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
    bar = Progress("pieces tested as the sequential test would", len(kept), " pieces")
    for i, v in enumerate(values):
        bar.step(kept[i].stem)
        for j in range(i + 1, len(values)):
            if j not in shares[i] and max(pair_evidence(v, values[j])) >= ACCEPT_LLR:
                shares[i].add(j)
                shares[j].add(i)
    bar.done()
    pairs = sorted({(min(i, j), max(i, j)) for i, js in enumerate(shares) for j in js})
    log(
        f"corpus: {len(pairs)} pairs of pieces share audio"
        + "".join(f"; {kept[i].stem} and {kept[j].stem}" for i, j in pairs)
    )
    return [replace(t, shares=tuple(sorted(kept[j].path for j in shares[i]))) for i, t in enumerate(kept)]


def pair_evidence(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """The most evidence the sequential test can gather for ``a`` played as ``b``, and for ``b``
    played as ``a`` (nats, :func:`run_evidence`), over every alignment of the two."""
    m = np.empty((a.size, b.size), np.uint8)  # bit errors of every value of a against every value of b
    for i in range(0, a.size, 256):
        m[i : i + 256] = np.bitwise_count(a[i : i + 256, None] ^ b[None, :])
    return run_evidence(m), run_evidence(np.ascontiguousarray(m.T))


def run_evidence(errors: np.ndarray) -> float:
    """The best run of the sequential test (:mod:`collector.plays.sequential`) for the rows'
    piece played as the columns' piece, from ``errors`` (bit errors of every value pair).

    The rows' piece is cut into 10-s windows (two phases, as a broadcast's segments may fall);
    at every alignment each window's BER is the best of ±``SHIFTS`` values about it, as
    :func:`collector.plays.guided.continuation_ber` takes it. A seed is ``QUERY_SEGMENTS``
    windows within ``SEED_MAX_BER`` together; its neighbours' :func:`window_llr` are summed
    forwards and backwards, each side as far as it gains (no ``DROP_LLR`` cut-off: looser than
    the test, as a check that must not miss should be); a window not wholly inside the other
    piece ends a run.
    """
    q, r = errors.shape
    if r < WINDOW:
        return 0.0
    best = 0.0
    for phase in (0, WINDOW // 2):
        n = (q - phase) // WINDOW
        if n < QUERY_SEGMENTS:
            continue
        # ber[k, w]: window w with the rows' value t against the columns' value t + k - (q - WINDOW)
        ber = np.full((q + r - 2 * WINDOW + 1, n), np.nan)
        for w in range(n):
            p = phase + w * WINDOW
            diag = np.zeros(r - WINDOW + 1, np.uint16)  # the window against values j...: at most 80 × 32
            for i in range(WINDOW):
                diag += errors[p + i, i : i + r - WINDOW + 1]
            k0 = q - WINDOW - p
            ber[k0 : k0 + diag.size, w] = diag / (32.0 * WINDOW)
        near = ber.copy()  # best of ±SHIFTS alignments
        for k in range(1, SHIFTS + 1):
            near[k:] = np.fmin(near[k:], ber[:-k])
            near[:-k] = np.fmin(near[:-k], ber[k:])
        near[np.isnan(ber)] = np.nan  # outside the piece the run ends, whatever its neighbours
        llr = np.interp(near, _GRID, _LLR)  # NaN stays NaN
        fwd = np.zeros((ber.shape[0], n + 1))  # fwd[:, j]: best sum of windows j, j+1, ...
        for j in range(n - 1, -1, -1):
            fwd[:, j] = np.where(np.isnan(llr[:, j]), 0.0, np.maximum(0.0, llr[:, j] + fwd[:, j + 1]))
        bwd = np.zeros((ber.shape[0], n + 1))  # bwd[:, j + 1]: best sum of windows j, j-1, ...
        for j in range(n):
            bwd[:, j + 1] = np.where(np.isnan(llr[:, j]), 0.0, np.maximum(0.0, llr[:, j] + bwd[:, j]))
        c = QUERY_SEGMENTS
        seed = np.stack([ber[:, s : n - c + 1 + s] for s in range(c)]).mean(axis=0)  # NaN unless all inside
        total = fwd[:, c : n + 1] + bwd[:, 0 : n - c + 1]
        ok = seed <= SEED_MAX_BER
        if ok.any():
            best = max(best, float(total[ok].max()))
    return best


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
                "shared_audio_check": CHECK,
            }
        )
    )


def apart(pieces: list[Track], catalog: list[Track]) -> list[Track]:
    """The ``pieces`` that share no audio with a catalog track (off-catalog music must give nothing)."""
    paths = {t.path for t in catalog}
    return [t for t in pieces if not paths.intersection(t.shares)]


def split(songs: list[Track], seed: int, catalog_fraction: float = 0.7) -> tuple[list[Track], list[Track]]:
    """(catalog, off-catalog), a seeded shuffle so every run uses the same split; the catalog
    takes no song that shares audio with one it holds (two recordings the pipeline cannot tell
    apart), and a song that shares audio with a catalog song is left out of the off-catalog music."""
    order = sorted(songs, key=lambda t: t.path)
    random.Random(seed).shuffle(order)
    n = round(len(order) * catalog_fraction)
    catalog: list[Track] = []
    rest: list[Track] = []
    for t in order:
        if len(catalog) < n and not {c.path for c in catalog}.intersection(t.shares):
            catalog.append(t)
        else:
            rest.append(t)
    return catalog, apart(rest, catalog)
