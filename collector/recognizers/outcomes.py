"""What a recognition service answered, as one of five typed outcomes.

A lookup never raises for what the service says: every answer, and every way of getting no
answer, becomes an outcome, and the outcome decides what happens next.

    Outcome
    ├── Named        the service named the audio: one or more candidates, every field kept
    ├── NotFound     a clean answer: the service does not know this audio
    ├── RetryLater   nothing learned, try again at ``at`` (429, 5xx, timeout, connection lost)
    ├── Park         this request cannot succeed as sent (bad audio, bad parameter): a person looks
    └── Stop         the service refuses every request (quota gone, key invalid): the breaker opens

``Stop`` opens the service's circuit breaker until the next day or until an operator resets
it (``sodav-collector recognizers reset``); ``RetryLater`` and ``Park`` concern one request.
Messages never carry the API key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["Candidate", "Named", "NotFound", "Outcome", "Park", "RetryLater", "Stop"]


@dataclass(frozen=True)
class Candidate:
    """One answer of a provider, with every field it carried (accents intact)."""

    provider: str  # "acoustid" or "audd"
    title: str
    artist: str
    album: str | None = None
    label: str | None = None
    release_date: str | None = None
    isrc: str | None = None
    timecode: str | None = None  # AudD: where in the song the excerpt plays, "MM:SS"
    song_link: str | None = None
    score: float | None = None  # AcoustID: 0..1; AudD gives none
    duration: float | None = None  # seconds, when the provider says
    ids: dict[str, str] = field(default_factory=dict)  # acoustid, musicbrainz, spotify, apple_music...
    raw: dict[str, Any] = field(default_factory=dict)  # the provider's block, as received

    def label_text(self) -> str:
        return f"{self.artist} - {self.title}"


@dataclass(frozen=True)
class Named:
    candidates: list[Candidate]
    kind: str = "named"

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


@dataclass(frozen=True)
class NotFound:
    why: str = "the service does not know this audio"
    kind: str = "not_found"


@dataclass(frozen=True)
class RetryLater:
    why: str
    at: datetime | None = None  # None: as soon as the caller's own backoff allows
    kind: str = "retry"
    sent: bool = True  # False: the request never left (no connection), nothing was spent


@dataclass(frozen=True)
class Park:
    why: str
    kind: str = "park"


@dataclass(frozen=True)
class Stop:
    why: str
    kind: str = "stop"


Outcome = Named | NotFound | RetryLater | Park | Stop
