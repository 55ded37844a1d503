"""Build wire payloads from real Chromaprint values of packaged free music."""

from __future__ import annotations

import base64
import functools
import glob
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from shared.chroma import fingerprint_pcm
from shared.codec import FingerprintSegment, encode

MUSIC = "/usr/share/games/hedgewars/Data/Music/*.ogg"
# a recent hour, fixed for the whole run: the collector refuses segments far from its clock
RECENT = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)


@functools.cache
def real_values(seconds: int = 120) -> np.ndarray:
    track = sorted(glob.glob(MUSIC))[0]
    pcm = subprocess.run(
        [
            "ffmpeg",
            "-v",
            "error",
            "-i",
            track,
            "-t",
            str(seconds),
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
    ).stdout
    return fingerprint_pcm(np.frombuffer(pcm, dtype=np.int16), 11025)


def segment(
    station: str, seq: int, start: datetime | None = None, rates: tuple[int, ...] = (0,)
) -> dict[str, Any]:
    start = start or RECENT + timedelta(seconds=10 * seq)
    vals = real_values()
    chunk = vals[(seq * 80) % (len(vals) - 80) :][:80]
    blobs = [
        base64.b64encode(encode(FingerprintSegment(chunk, start, 11025, 110250, rate))).decode()
        for rate in rates
    ]
    return {
        "station": station,
        "seq": seq,
        "start": start.isoformat(),
        "duration": 10.0,
        "level_dbfs": -14.0,
        "fingerprints": blobs,
    }


def upload(
    agent: str,
    segments: list[dict[str, Any]],
    events: list[dict[str, Any]] | None = None,
    batch_id: str = "b1",
) -> dict[str, Any]:
    return {
        "schema_version": 1,
        "agent": agent,
        "batch_id": batch_id,
        "sent_at": datetime.now(UTC).isoformat(),
        "segments": segments,
        "events": events or [],
    }


def heartbeat(agent: str) -> dict[str, Any]:
    """A minimal v1 heartbeat: empty queue, no sources."""
    return {
        "schema_version": 1,
        "agent": agent,
        "sent_at": datetime.now(UTC).isoformat(),
        "agent_version": "test",
        "queue_depth": 0,
        "sources": [],
    }
