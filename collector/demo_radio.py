"""Build a short, realistic radio recording from free music, with its catalog and truth.

Used by ``./dev demo`` and by tests. Music comes from Debian's hedgewars-data package;
speech from espeak-ng. The programme: a song, a DJ break, a song under a voice-over intro,
an off-catalog song (must not be named), a crossfade between two songs; the whole station
chain plays 2 % fast with compression and is encoded as 128 kbit/s MP3, as many FM
stations and their streams do.
"""

from __future__ import annotations

import csv
import glob
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

RATE = 44100
MUSIC_DIR = "/usr/share/games/hedgewars/Data/Music"


@dataclass(frozen=True)
class DemoFiles:
    recording: Path
    catalog_csv: Path
    truth_csv: Path
    speed: float


@dataclass(frozen=True)
class Piece:
    kind: str  # song, speech, offcat
    source: str  # file path or text
    begin: float = 0.0  # seconds into the source
    length: float = 0.0
    crossfade: float = 0.0  # overlap with the previous piece
    voice_over: str | None = None


def _decode(path: str, begin: float, length: float) -> npt.NDArray[np.float32]:
    raw = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-ss",
            f"{begin}",
            "-t",
            f"{length}",
            "-i",
            path,
            "-ac",
            "1",
            "-ar",
            str(RATE),
            "-f",
            "f32le",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, dtype=np.float32).copy()


def _speech(text: str, out_dir: Path, voice: str = "fr") -> npt.NDArray[np.float32]:
    wav = out_dir / f"speech-{abs(hash(text)) % 10**8}.wav"
    subprocess.run(
        ["espeak-ng", "-v", voice, "-s", "150", "-w", str(wav), text], check=True, capture_output=True
    )
    return _decode(str(wav), 0, 600) * 0.8


def tracks() -> list[str]:
    found = sorted(glob.glob(f"{MUSIC_DIR}/*.ogg"))
    if len(found) < 8:
        raise RuntimeError(f"demo music missing in {MUSIC_DIR}: apt-get install hedgewars-data")
    return found


def build_demo(out_dir: Path, speed: float = 1.02) -> DemoFiles:
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
    mix = np.zeros(0, dtype=np.float32)
    truth: list[tuple[str, float, float, float]] = []
    for piece in programme:
        if piece.kind == "speech":
            audio = _speech(piece.source, out_dir)
        else:
            audio = _decode(piece.source, piece.begin, piece.length) * 0.7
        if piece.voice_over:
            vo = _speech(piece.voice_over, out_dir) * 0.5  # about -6 dB under the music
            audio[: vo.size] += vo[: audio.size]
        start = mix.size
        if piece.crossfade and mix.size:
            n = int(piece.crossfade * RATE)
            ramp = np.linspace(0, 1, n, dtype=np.float32)
            mix[-n:] *= 1 - ramp
            audio[:n] *= ramp
            start = mix.size - n
            mix = np.concatenate([mix[:start], mix[start:] + audio[:n], audio[n:]])
        else:
            mix = np.concatenate([mix, audio])
        if piece.kind == "song":
            truth.append((piece.source, start / RATE, (start + audio.size) / RATE, piece.begin))
    wav = out_dir / "programme.wav"
    pcm16 = (np.clip(mix, -1, 1) * 32767).astype("<i2")
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", "-", str(wav)],
        input=pcm16.tobytes(),
        check=True,
    )
    recording = out_dir / "radio.mp3"
    chain = f"asetrate={RATE}*{speed},aresample={RATE},acompressor=threshold=0.1:ratio=4:makeup=2"
    subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-y",
            "-i",
            str(wav),
            "-af",
            chain,
            "-ac",
            "2",
            "-b:a",
            "128k",
            str(recording),
        ],
        check=True,
    )
    catalog_csv = out_dir / "catalog.csv"
    with catalog_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "external_id", "title", "artist", "isrc", "label", "composer"])
        for i, path in enumerate(catalog):
            w.writerow(
                [
                    path,
                    f"DEMO-{i + 1:03d}",
                    Path(path).stem,
                    "Hedgewars OST",
                    f"FRZ9D26{i + 1:05d}",
                    "Hedgewars",
                    "Hedgewars team",
                ]
            )
    truth_csv = out_dir / "truth.csv"
    ids = {p: f"DEMO-{i + 1:03d}" for i, p in enumerate(catalog)}
    with truth_csv.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["external_id", "title", "start_s", "end_s", "offset_s"])
        for src, s, e, off in truth:
            w.writerow([ids[src], Path(src).stem, f"{s / speed:.2f}", f"{e / speed:.2f}", f"{off:.2f}"])
    wav.unlink()
    return DemoFiles(recording, catalog_csv, truth_csv, speed)
