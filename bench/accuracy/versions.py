"""Near-duplicate versions: a remaster of some catalog songs, held in the catalog beside them.

A catalog often holds a song twice: the original and a remaster (louder, brighter, with more
bass), under two ISRCs that earn for different rights holders. Fingerprints of the two are
close, so a broadcast of one also matches the other; a play must name the one that aired.
Each remaster here is the original through a mastering chain (EQ, compression, a limiter),
timed exactly as the original, written once to ``out/versions/``.
"""

from __future__ import annotations

import random
import subprocess
from dataclasses import replace
from pathlib import Path

from bench.accuracy.corpus import Track

REMASTER = (
    "equalizer=f=80:t=q:w=1:g=5,equalizer=f=3000:t=q:w=2:g=-3,equalizer=f=9000:t=q:w=1:g=4,"
    "acompressor=threshold=0.08:ratio=4:makeup=3,alimiter=limit=0.9"
)
SHARE = 0.25  # of the catalog songs that get a remaster


def remasters(catalog: list[Track], out: Path, seed: int) -> dict[str, Track]:
    """{original path: its remaster} for a seeded quarter of ``catalog``."""
    rng = random.Random(f"{seed}:versions")
    chosen = rng.sample(sorted(catalog, key=lambda t: t.path), round(len(catalog) * SHARE))
    out.mkdir(parents=True, exist_ok=True)
    found: dict[str, Track] = {}
    for t in chosen:
        path = out / f"{t.package}-{Path(t.path).stem}-remaster.ogg"
        if not path.exists():
            subprocess.run(
                [
                    "ffmpeg",
                    "-v",
                    "error",
                    "-y",
                    "-i",
                    t.path,
                    "-af",
                    REMASTER,
                    "-c:a",
                    "libvorbis",
                    "-q:a",
                    "5",
                    str(path),
                ],
                check=True,
            )
        found[t.path] = replace(t, path=str(path))
    return found
