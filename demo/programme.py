"""The demo's radio recording: a short programme from free music, with its catalog and truth.

Used by ``./dev demo`` and by tests. Music comes from Debian's hedgewars-data package;
speech from espeak-ng. The programme: a song, a DJ break, a song under a voice-over intro,
an off-catalog song (must not be named), a crossfade between two songs; the whole station
chain plays 2 % fast with compression and is encoded as 128 kbit/s stereo MP3, as many FM
stations and their streams do (demo/radio.py, the accuracy benchmark's chain).
"""

from __future__ import annotations

import csv
import glob
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from demo.radio import RATE, Mixer, Profile, broadcast, decode, speech

MUSIC_DIR = "/usr/share/games/hedgewars/Data/Music"
MUSIC_PACKAGE = "hedgewars-data"
CHAIN = Profile(
    "radio", 1.02, "acompressor=threshold=0.1:ratio=4:makeup=2", None, ["-ac", "2", "-b:a", "128k"], "mp3"
)


@dataclass(frozen=True)
class DemoFiles:
    recording: Path
    catalog_csv: Path
    truth_csv: Path  # external_id, title, start_s, end_s, offset_s in broadcast seconds
    speed: float
    duration: float  # broadcast seconds


@dataclass(frozen=True)
class Piece:
    kind: str  # song, speech, offcat
    source: str  # file path or text
    begin: float = 0.0  # seconds into the source
    length: float = 0.0
    crossfade: float = 0.0  # overlap with the previous piece
    voice_over: str | None = None


@dataclass
class _Play:
    source: str
    start: float  # programme seconds
    end: float
    offset: float  # seconds into the source at start


def tracks() -> list[str]:
    found = sorted(glob.glob(f"{MUSIC_DIR}/*.ogg"))
    if len(found) < 15:
        raise RuntimeError(f"demo music missing in {MUSIC_DIR}: apt-get install {MUSIC_PACKAGE}")
    return found


def build_demo(out_dir: Path, progress: Callable[[int, int, str], None] | None = None) -> DemoFiles:
    """Write the recording, ``catalog.csv`` and ``truth.csv`` into ``out_dir``.

    ``progress(done, total, what)`` is called as each piece of the programme is mixed.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    t = tracks()
    catalog = [t[2], t[5], t[7], t[9], t[11], t[0]]  # t[14] stays off-catalog
    programme = [
        Piece("song", catalog[0], 0, 55),
        Piece("speech", "Bonjour Dakar, il est dix heures. Restez avec nous, voici la suite du programme."),
        Piece("song", catalog[1], 20, 60, voice_over="Et maintenant, un titre que vous aimez beaucoup."),
        Piece("offcat", t[14], 10, 30),
        Piece("song", catalog[2], 0, 50),
        Piece("song", catalog[3], 15, 55, crossfade=5),
    ]
    mix = Mixer()
    truth: list[_Play] = []
    for i, piece in enumerate(programme):
        if progress:
            progress(i, len(programme) + 1, f"{piece.kind} {Path(piece.source).stem[:24]}")
        if piece.kind == "speech":
            audio = speech(piece.source, out_dir / "tts")
        else:
            audio = decode(piece.source, piece.begin, piece.length) * 0.7
        if piece.voice_over:
            vo = speech(piece.voice_over, out_dir / "tts") * 0.5  # about -6 dB under the music
            n = min(vo.size, audio.size)
            audio[:n] += vo[:n]
        first = mix.add(audio, piece.crossfade)
        # a crossfade's boundary is its middle: each second of airtime belongs to one play
        start = (first + piece.crossfade * RATE / 2) / RATE
        if truth and piece.crossfade:
            truth[-1].end = start
        if piece.kind == "song":
            end = (first + audio.size) / RATE
            truth.append(_Play(piece.source, start, end, piece.begin + start - first / RATE))
    if progress:
        progress(len(programme), len(programme) + 1, "station chain and MP3 encoder")
    pcm = mix.pcm()
    recording = broadcast(pcm, CHAIN, out_dir)
    if progress:
        progress(len(programme) + 1, len(programme) + 1, "done")
    ids = {p: f"DEMO-{i + 1:03d}" for i, p in enumerate(catalog)}
    catalog_csv = out_dir / "catalog.csv"
    with catalog_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "external_id", "title", "artist", "isrc", "label", "composer"])
        for i, path in enumerate(catalog):
            row = [path, ids[path], Path(path).stem, "Hedgewars OST", f"FRZ9D26{i + 1:05d}", "Hedgewars"]
            w.writerow([*row, "Hedgewars team"])
    truth_csv = out_dir / "truth.csv"
    speed = CHAIN.speed
    with truth_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "title", "start_s", "end_s", "offset_s"])
        for p in truth:
            s, e = p.start / speed, p.end / speed
            w.writerow([ids[p.source], Path(p.source).stem, f"{s:.2f}", f"{e:.2f}", f"{p.offset:.2f}"])
    return DemoFiles(recording, catalog_csv, truth_csv, speed, pcm.size / RATE / speed)
