"""Simulated radio days: a programme mixed from real music and speech, and the station chains.

The programme (seeded, so reruns are identical) strings together catalog songs, off-catalog
songs, DJ speech (espeak-ng), intros under a voice-over (music ducked 6 dB), crossfades,
songs started mid-way or faded out early, genuine replays, and ad breaks (a jingle, spoken
ads over a music bed, a jingle). The station chain then changes the speed (pitch and tempo
together: ffmpeg ``asetrate`` + ``aresample``), compresses, band-limits, adds noise and
encodes at a low bitrate, as FM and web streams do. Mixing and the chain are the demo's
(demo/radio.py); this module writes the day's programme and the benchmark's station profiles.

Some profiles also change the programme (:class:`Style`, the hard cases of issue #17): a DJ
talking over long stretches of songs at the music's own level, teasers of 20-40 s, and songs
played in a remastered version that the catalog holds beside the original
(:mod:`bench.accuracy.versions`).

Ground truth is in broadcast time: programme time divided by the speed. A crossfade's
boundary is the middle of the overlap (each second of airtime belongs to one play). A song
under a talk-over is a play from its first second; a teaser is a play.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.accuracy.corpus import Track
from demo.radio import RATE, Mixer, Profile, decode, speech

DJ_LINES = {
    "fr": [
        "Bonjour Dakar, il est dix heures, restez avec nous.",
        "Vous écoutez la radio, la suite du programme tout de suite.",
        "Merci pour vos messages, on continue avec de la musique.",
        "Il fait beau sur la capitale, trente deux degrés à l'ombre.",
        "Un petit mot pour nos auditeurs de Thiès et de Saint-Louis.",
        "Et maintenant un titre que vous aimez beaucoup.",
    ],
    "en": [
        "Good morning, this is your favourite station, stay tuned.",
        "That was a great one. Here comes another hit for you.",
        "The news at the top of the hour, right after this.",
        "Traffic is heavy on the coastal road this morning.",
    ],
}
ADS = [
    "Achetez le riz de la vallée, le meilleur riz du pays, en vente partout.",
    "Orange money, envoyez de l'argent à vos proches en un clic.",
    "Grande promotion au marché Sandaga, tout à moitié prix ce week-end.",
    "Buy the new phone today, with free calls for a whole month.",
]


FM_CHAIN = "acompressor=threshold=0.05:ratio=6:makeup=3,highpass=f=30,lowpass=f=15000"
# a receiver's level drifting ±3 dB over about 23 s (an FM tuner on a sound card, AGC)
WANDER = "volume=volume='pow(10,3*sin(2*PI*t/23)/20)':eval=frame"

PROFILES = [
    # a clean studio stream
    Profile("studio", 1.000, "acompressor=threshold=0.2:ratio=2", None, ["-b:a", "128k"], "mp3"),
    # FM playout 2 % fast (on the sweep grid), loud processing, FM band, light hiss
    Profile(
        "fm-fast",
        1.020,
        "acompressor=threshold=0.05:ratio=6:makeup=3,highpass=f=30,lowpass=f=15000",
        -50.0,
        ["-b:a", "96k"],
        "mp3",
    ),
    # 2.5 % slow: half-way between two sweep variants, AAC at 48 kbit/s
    Profile(
        "fm-slow",
        0.975,
        "acompressor=threshold=0.05:ratio=8:makeup=4,highpass=f=30,lowpass=f=15000",
        -45.0,
        ["-c:a", "aac", "-b:a", "48k", "-ar", "22050"],
        "m4a",
    ),
    # a web stream 4 % fast, 48 kbit/s mono MP3
    Profile(
        "web-plus4",
        1.040,
        "acompressor=threshold=0.1:ratio=4:makeup=2",
        -55.0,
        ["-b:a", "48k", "-ar", "22050", "-ac", "1"],
        "mp3",
    ),
    # 4 % slow through an AM-like narrow band (100 Hz - 5 kHz)
    Profile(
        "am-minus4",
        0.960,
        "acompressor=threshold=0.05:ratio=6:makeup=3,highpass=f=100,lowpass=f=5000",
        -45.0,
        ["-c:a", "aac", "-b:a", "64k"],
        "m4a",
    ),
    # an odd rate, 1.3 % fast, 64 kbit/s
    Profile("fm-odd", 1.013, "acompressor=threshold=0.1:ratio=4:makeup=2", -50.0, ["-b:a", "64k"], "mp3"),
    # the hard cases (issue #17). AM: 3 % slow, 150 Hz - 4.5 kHz, hiss about 18 dB under the
    # music, 64 kbit/s mono MP3
    Profile(
        "am-narrow",
        0.970,
        "acompressor=threshold=0.05:ratio=8:makeup=4,highpass=f=150,lowpass=f=4500",
        -36.0,
        ["-b:a", "64k", "-ac", "1"],
        "mp3",
    ),
    # an FM receiver on a sound card: 1.5 % slow, 50 Hz - 12 kHz, hiss about 14 dB under the
    # music, level wandering ±3 dB; captured losslessly
    Profile("receiver", 0.985, f"highpass=f=50,lowpass=f=12000,{WANDER}", -32.0, ["-c:a", "flac"], "flac"),
    # a DJ talking over long stretches of songs at the music's level (see STYLES), AAC 32k mono
    Profile(
        "talk-over",
        1.010,
        "acompressor=threshold=0.1:ratio=4:makeup=2",
        -55.0,
        ["-c:a", "aac", "-b:a", "32k", "-ac", "1"],
        "m4a",
    ),
    # 4 % fast with teasers of 20-40 s between items
    Profile("teasers", 1.040, FM_CHAIN, -50.0, ["-b:a", "96k"], "mp3"),
    # 4 % slow FM, half of the songs that have a remaster in the catalog played as the remaster
    Profile("versions", 0.960, FM_CHAIN, -50.0, ["-b:a", "96k"], "mp3"),
]


@dataclass(frozen=True)
class Style:
    """What a station's programme does beyond the common mix."""

    talkover: float = 0.0  # share of songs a DJ talks over from their first second, unducked
    talkover_max: float = 0.4  # ... for 10 % up to this share of the song
    teasers: float = 0.0  # chance of a 20-40 s teaser of a catalog song before a song
    versions: float = 0.0  # chance the next catalog song is one with a remaster (then either version)


STYLES = {
    "talk-over": Style(talkover=0.4),
    "teasers": Style(teasers=0.35),
    "versions": Style(versions=0.6),
}


def talk(rng: random.Random, seconds: float, cache: Path) -> npt.NDArray[np.float32]:
    """``seconds`` of DJ talk: lines in French and English with short pauses."""
    parts, n = [], 0
    while n < seconds * RATE:
        voice = rng.choice(["fr", "fr", "en"])
        line = speech(rng.choice(DJ_LINES[voice]), cache, voice)
        pause = np.zeros(int(rng.uniform(0.2, 0.9) * RATE), dtype=np.float32)
        parts += [line, pause]
        n += line.size + pause.size
    return np.concatenate(parts)[: int(seconds * RATE)]


def _rms(x: npt.NDArray[np.float32]) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def talk_over(
    audio: npt.NDArray[np.float32], rng: random.Random, cache: Path, share: float
) -> npt.NDArray[np.float32]:
    """The song with a DJ talking over its first ``share`` at the music's own level (0 dB)."""
    n = int(audio.size * share)
    voice = talk(rng, n / RATE, cache)
    voiced = np.abs(voice) > 1e-4
    gain = _rms(audio[:n]) / max(_rms(voice[voiced]), 1e-6)
    out = audio.copy()
    out[: voice.size] += voice * gain
    return out


@dataclass
class TruthPlay:
    station: str
    path: str
    start: float  # broadcast seconds
    end: float
    offset: float  # seconds into the recording at start
    kind: str  # song or offcat
    note: str


def build_programme(
    station: str,
    catalog: list[Track],
    offcat: list[Track],
    short: list[Track],
    hours: float,
    seed: int,
    cache: Path,
    versions: dict[str, Track] | None = None,
) -> tuple[npt.NDArray[np.float32], list[TruthPlay]]:
    """The station's programme at nominal speed and its truth in programme seconds.

    ``versions`` maps a catalog song's path to its remaster (also in the catalog), which a
    station whose :class:`Style` says so plays instead of the original now and then.
    """
    rng = random.Random(f"{seed}:{station}")
    style = STYLES.get(station, Style())
    versions = versions or {}
    remasters = set(t.path for t in versions.values())
    short = short or offcat or catalog  # a small corpus (--smoke) may have no short piece
    mix = Mixer()
    truth: list[TruthPlay] = []
    recent: list[str] = []
    played: list[Track] = []
    target = hours * 3600 * RATE
    crossfade_next = 0.0
    while mix.size < target:
        # what comes between songs
        r = rng.random()
        if r < 0.25 and mix.size:
            voice = rng.choice(["fr", "fr", "en"])
            mix.add(speech(rng.choice(DJ_LINES[voice]), cache, voice))
            crossfade_next = 0.0
        elif r < 0.37 and mix.size:
            for k in range(rng.choice([1, 2])):
                bed_track = rng.choice(short)
                text_audio = speech(rng.choice(ADS), cache, "fr")
                bed = decode(bed_track.path, bed_track.audible_start, text_audio.size / RATE + 1) * 0.25
                bed = np.resize(bed, text_audio.size + RATE) if bed.size else np.zeros(text_audio.size + RATE)
                bed[: text_audio.size] += text_audio
                if k == 0:
                    jingle = rng.choice(short)
                    mix.add(decode(jingle.path, jingle.audible_start, rng.uniform(3, 8)) * 0.7)
                mix.add(bed.astype(np.float32))
            crossfade_next = 0.0
        if style.teasers and mix.size and rng.random() < style.teasers:
            track = rng.choice(catalog)
            length = rng.uniform(20, 40)
            begin = rng.uniform(track.audible_start, max(track.audible_start, track.audible_end - length))
            audio = decode(track.path, begin, length) * 0.7
            fade = min(audio.size // 4, RATE)
            audio[:fade] *= np.linspace(0, 1, fade, dtype=np.float32)
            audio[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
            first = mix.add(audio)
            truth.append(
                TruthPlay(
                    station, track.path, first / RATE, (first + audio.size) / RATE, begin, "song", "teaser"
                )
            )
            mix.add(speech(rng.choice(DJ_LINES["fr"]), cache, "fr"))
            crossfade_next = 0.0
        # the song
        replay = played and rng.random() < 0.08
        if replay:
            track = rng.choice(played)
        else:
            pool = catalog if rng.random() < 0.75 else offcat
            if style.versions and pool is catalog and rng.random() < style.versions:
                pool = [t for t in catalog if t.path in versions] or catalog
            choices = [t for t in pool if t.path not in recent] or pool
            track = rng.choice(choices)
        recent = ([track.path, *recent])[:12]
        if style.versions and track.path in versions and rng.random() < 0.5:
            track = versions[track.path]
        span = track.audible_end - track.audible_start
        begin = track.audible_start
        note = []
        if rng.random() < 0.2:
            begin += rng.uniform(10, max(11.0, 0.4 * span))
            note.append("mid-start")
        end = track.audible_end
        if rng.random() < 0.25 and end - begin > 60:
            end = begin + rng.uniform(45, end - begin - 5)
            note.append("cut")
        audio = decode(track.path, begin, end - begin) * 0.7
        if "cut" in note:
            fade = min(audio.size, int(2 * RATE))
            audio[-fade:] *= np.linspace(1, 0, fade, dtype=np.float32)
        if style.talkover and rng.random() < style.talkover:
            audio = talk_over(audio, rng, cache, rng.uniform(0.1, style.talkover_max))
            note.append("talk-over")
        elif rng.random() < 0.3:
            vo = speech(rng.choice(DJ_LINES["fr"]), cache, "fr")
            n = min(vo.size, audio.size)
            audio[:n] = audio[:n] * 0.5 + vo[:n]
            note.append("voice-over")
        xf = crossfade_next
        if xf:
            note.append(f"crossfade {xf:.1f}s")
        first = mix.add(audio, xf)
        start = first + (xf * RATE / 2 if xf else 0)
        if truth and xf:
            truth[-1].end = start / RATE  # meet in the middle of the crossfade
        truth.append(
            TruthPlay(
                station,
                track.path,
                start / RATE,
                (first + audio.size) / RATE,
                begin + (start - first) / RATE,
                "song" if track in catalog or track.path in remasters else "offcat",
                ",".join(note) + (",replay" if replay else ""),
            )
        )
        if not replay and (track in catalog or track.path in remasters):
            played.append(track)
        crossfade_next = rng.uniform(3, 6) if rng.random() < 0.3 else 0.0
    return mix.pcm(), truth
