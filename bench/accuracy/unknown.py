"""A programme of what the catalog cannot name, with its truth: the music-or-not benchmark's input.

Each item is labelled in broadcast seconds: unknown **songs** (whole, joined late, cut early,
some with a DJ talking over the first seconds: still the song), **talk** (news and talk
shows: espeak-ng lines with pauses, 30 s to 3 min), **ad** breaks (a jingle, then two to four
spoken ads over a music bed, as bench/accuracy/radio.py makes them), **dj** lines alone,
lone **jingle**s and dead air (**silence**: hiss at -60 dBFS). Mixing, speech and the station
chains are the demo's (demo/radio.py), so the audio sounds as the accuracy benchmark's does.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.accuracy.corpus import Track
from bench.accuracy.radio import ADS, DJ_LINES
from demo.radio import RATE, Mixer, decode, speech

MUSIC = {"song"}
KINDS = ("song", "talk", "ad", "dj", "jingle", "silence")


@dataclass
class Item:
    kind: str
    start: float  # broadcast seconds once the speed is applied; programme seconds before
    end: float
    path: str = ""  # a song's file
    offset: float = 0.0  # seconds into the song at start
    note: str = ""


def _talk(rng: random.Random, seconds: float, cache: Path) -> npt.NDArray[np.float32]:
    parts, n = [], 0
    lines = DJ_LINES["fr"] + DJ_LINES["en"]
    while n < seconds * RATE:
        voice = rng.choice(["fr", "fr", "en"])
        line = speech(rng.choice(lines if voice == "en" else [*DJ_LINES["fr"], *ADS]), cache, voice)
        pause = np.zeros(int(rng.uniform(0.2, 0.9) * RATE), dtype=np.float32)
        parts += [line, pause]
        n += line.size + pause.size
    return np.concatenate(parts)[: int(seconds * RATE)]


def _ad_break(rng: random.Random, short: list[Track], cache: Path) -> npt.NDArray[np.float32]:
    jingle = rng.choice(short)
    parts = [decode(jingle.path, jingle.audible_start, rng.uniform(3, 8)) * 0.7]
    for _ in range(rng.randint(2, 4)):
        text = speech(rng.choice(ADS), cache, "fr")
        bed_track = rng.choice(short)
        bed = decode(bed_track.path, bed_track.audible_start, text.size / RATE + 1) * 0.25
        bed = np.resize(bed, text.size + RATE) if bed.size else np.zeros(text.size + RATE, dtype=np.float32)
        bed[: text.size] += text
        parts.append(bed.astype(np.float32))
    return np.concatenate(parts)


def build(
    songs: list[Track], short: list[Track], hours: float, seed: int, cache: Path
) -> tuple[npt.NDArray[np.float32], list[Item]]:
    """The programme at nominal speed and its items, in programme seconds."""
    rng = random.Random(seed)
    short = short or songs
    mix = Mixer()
    items: list[Item] = []
    target = hours * 3600 * RATE
    while mix.size < target:
        r = rng.random()
        at = mix.size / RATE
        if r < 0.5:
            track = rng.choice(songs)
            begin, end, note = track.audible_start, track.audible_end, []
            if rng.random() < 0.2:
                begin += rng.uniform(10, max(11.0, 0.4 * (end - begin)))
                note.append("joined late")
            if rng.random() < 0.2 and end - begin > 60:
                end = begin + rng.uniform(45, end - begin - 5)
                note.append("cut early")
            audio = decode(track.path, begin, end - begin) * 0.7
            if rng.random() < 0.3:
                voice = speech(rng.choice(DJ_LINES["fr"]), cache, "fr")
                n = min(voice.size, audio.size)
                audio[:n] = audio[:n] * 0.5 + voice[:n]
                note.append("voice-over")
            mix.add(audio)
            items.append(Item("song", at, at + audio.size / RATE, track.path, begin, ",".join(note)))
            continue
        if r < 0.65:
            kind, audio = "talk", _talk(rng, rng.uniform(30, 180), cache)
        elif r < 0.8:
            kind, audio = "ad", _ad_break(rng, short, cache)
        elif r < 0.9:
            kind, audio = "dj", _talk(rng, rng.uniform(3, 8), cache)
        elif r < 0.95:
            jingle = rng.choice(short)
            kind, audio = "jingle", decode(jingle.path, jingle.audible_start, rng.uniform(3, 8)) * 0.7
        else:
            n = int(rng.uniform(5, 30) * RATE)
            kind, audio = (
                "silence",
                (np.random.default_rng(rng.randrange(1 << 30)).standard_normal(n) * 0.001),
            )
        mix.add(audio.astype(np.float32))
        items.append(Item(kind, at, at + audio.size / RATE))
    return mix.pcm(), items
