"""``./dev demo``: the main job end to end on the embedded default (SQLite).

Foundation stage: fingerprints a packaged free-music track with the shared Chromaprint
code, round-trips it through the wire codec, and migrates an embedded collector database.
The full pipeline (stream → agent → collector → plays beside the truth) replaces this
when the matching work lands; until then the demo says so.
"""

from __future__ import annotations

import glob
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from shared.chroma import fingerprint_pcm, library_version
from shared.codec import FingerprintSegment, decode, encode

MUSIC_GLOBS = (
    "/usr/share/games/hedgewars/Data/Music/*.ogg",
    "/usr/share/games/wesnoth/*/data/core/music/*.ogg",
)


def main() -> int:
    files = sorted(f for g in MUSIC_GLOBS for f in glob.glob(g))
    if not files:
        print("demo: no demo music found; run `./dev demo` (it installs hedgewars-data)", file=sys.stderr)
        return 2
    track = Path(files[0])
    pcm = np.frombuffer(
        subprocess.run(
            [
                "ffmpeg",
                "-v",
                "error",
                "-i",
                str(track),
                "-t",
                "60",
                "-ac",
                "1",
                "-ar",
                "11025",
                "-f",
                "s16le",
                "-",
            ],
            capture_output=True,
            check=True,
        ).stdout,
        dtype=np.int16,
    )
    values = fingerprint_pcm(pcm, 11025)
    seg = FingerprintSegment(values, datetime.now(UTC), 11025, pcm.size)
    blob = encode(seg)
    assert decode(blob) == seg
    print(
        f"Chromaprint {library_version()}: {track.name}, 60 s -> {values.size} values, "
        f"{len(blob)} bytes on the wire"
    )
    from collector.db.migrate import upgrade

    with tempfile.TemporaryDirectory() as tmp:
        upgrade(f"sqlite:///{tmp}/collector.db")
        print(f"collector database migrated (embedded SQLite in {tmp})")
    print("Not yet: streaming into an agent, matching and plays beside the truth (matching issue).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
