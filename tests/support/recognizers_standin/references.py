"""The stand-in's own music: reference recordings with made-up metadata, and their fingerprints.

A catalog directory holds ``catalog.csv`` with the columns ``path`` (relative to the
directory, or absolute), ``title``, ``artist``, ``album``, ``label``, ``release_date``,
``isrc`` and ``isrc_in`` (which of AudD's blocks carry the ISRC: ``apple_music``,
``spotify``, ``musicbrainz``, ``none``, or ``all``, the default). :func:`write_catalog`
makes one from audio files, with invented Senegalese-style metadata, accents included.

Each recording is fingerprinted twice, as each service does: the whole track for AudD's
side (an index over every value, the collector's own :class:`CatalogIndex`), and the first
120 s for AcoustID's (what ``fpcalc`` and pyacoustid send, ``MAX_AUDIO_LENGTH``), with the
track's length, which AcoustID compares with the query's ``duration``.
"""

from __future__ import annotations

import csv
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from collector.audio import decode_file
from collector.matching.index import CatalogIndex
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm

__all__ = ["ACOUSTID_SECONDS", "Reference", "References", "write_catalog"]

ACOUSTID_SECONDS = 120
_NS = uuid.UUID("6f1e2c4a-5b1d-4c7e-9a3f-50da5e0c0de1")  # ids are stable across runs

# invented: no real artist or song is meant
TITLES = [
    "Dëgg La",
    "Sama Gàmmu",
    "Jàmm Ak Salaam",
    "Bëgg Naa La",
    "Ndiguël",
    "Yaay Bóoy",
    "Nit Ñi",
    "Xalis Du Dara",
    "Sopp Naa Ko",
    "Ñaari Fan",
    "Kër Gi",
    "Teraanga",
]
ARTISTS = [
    "Aïssatou Fall",
    "Kër Gi Band",
    "Sëriñ Mbaye & Jàmm",
    "Ndèye Fatou Seck",
    "Orchestre Ñuul",
    "Mamadou Diagne",
]
LABELS = ["Studio Xippi", "Dakar Sound Ñu", "Label Sabar"]


@dataclass
class Reference:
    index: int
    path: Path
    title: str
    artist: str
    album: str
    label: str
    release_date: str
    isrc: str
    isrc_in: str
    duration: float = 0.0
    head: npt.NDArray[np.uint32] = field(default_factory=lambda: np.zeros(0, dtype=np.uint32))

    def uid(self, kind: str) -> str:
        return str(uuid.uuid5(_NS, f"{kind}:{self.path.name}:{self.title}"))

    def carries_isrc(self, block: str) -> bool:
        return self.isrc_in == "all" or self.isrc_in == block


class References:
    """The stand-in's catalog, fingerprinted."""

    def __init__(self, refs: list[Reference]) -> None:
        self.refs = refs
        self.index = CatalogIndex()
        for ref in refs:
            pcm = decode_file(ref.path)
            ref.duration = pcm.size / CHROMAPRINT_RATE
            values = fingerprint_pcm(pcm, CHROMAPRINT_RATE)
            self.index.add(ref.index, values)
            ref.head = fingerprint_pcm(pcm[: ACOUSTID_SECONDS * CHROMAPRINT_RATE], CHROMAPRINT_RATE)
        self.index.build()

    @classmethod
    def load(cls, directory: Path) -> References:
        path = directory / "catalog.csv"
        if not path.exists():
            raise SystemExit(
                f"{path} is missing: make one with tests.support.recognizers_standin.write_catalog"
            )
        refs = []
        with path.open(newline="", encoding="utf-8") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                audio = Path(row["path"])
                refs.append(
                    Reference(
                        index=i,
                        path=audio if audio.is_absolute() else directory / audio,
                        title=row["title"],
                        artist=row["artist"],
                        album=row.get("album") or row["title"],
                        label=row.get("label") or "",
                        release_date=row.get("release_date") or "",
                        isrc=row.get("isrc") or "",
                        isrc_in=row.get("isrc_in") or "all",
                    )
                )
        return cls(refs)

    def __getitem__(self, index: int) -> Reference:
        return self.refs[index]


def write_catalog(directory: Path, audio: list[Path], isrc_in: list[str] | None = None) -> Path:
    """A ``catalog.csv`` in ``directory`` naming ``audio`` with invented metadata; its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "catalog.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["path", "title", "artist", "album", "label", "release_date", "isrc", "isrc_in"])
        for i, file in enumerate(audio):
            title = TITLES[i % len(TITLES)] + (f" {i // len(TITLES) + 1}" if i >= len(TITLES) else "")
            w.writerow(
                [
                    str(file),
                    title,
                    ARTISTS[i % len(ARTISTS)],
                    f"{title} (Album)",
                    LABELS[i % len(LABELS)],
                    f"20{10 + i % 15:02d}-0{1 + i % 9}-1{i % 10}",
                    f"SNA1B26{i + 1:05d}",
                    (isrc_in or ["all"])[i % len(isrc_in or ["all"])],
                ]
            )
    return path
