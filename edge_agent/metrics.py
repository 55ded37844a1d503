"""The agent's own metrics as a node_exporter textfile (Prometheus text format 0.0.4).

Off by default; with ``[metrics] textfile = PATH`` the daemon writes the file every
``metrics.interval_s`` seconds, atomically (a temporary file in the same directory, then a
rename: node_exporter never reads half a file). node_exporter's textfile collector serves it
with the box's other metrics. No prometheus-client: a few lines of text do not need a library
resident on every box. What each metric means: docs/technician/metrics.md.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import shared
from edge_agent.buffer.outbox import OutboxStats
from shared.schemas import SourceState, SourceStatusV1

__all__ = ["Family", "Snapshot", "render", "run_forever", "write_textfile"]

log = logging.getLogger("edge_agent.metrics")
PREFIX = "sodav_agent_"


@dataclass
class Family:
    """One metric: its samples as (labels, value)."""

    name: str
    kind: str  # "gauge" or "counter"
    help: str
    samples: list[tuple[dict[str, str], float]] = field(default_factory=list)

    def add(self, value: float, **labels: str) -> Family:
        self.samples.append((labels, float(value)))
        return self


@dataclass
class Snapshot:
    """What the metrics are made of, taken from the running service."""

    agent: str
    outbox: OutboxStats
    sources: list[SourceStatusV1]
    reconnects: dict[str, int]
    segments_written: int
    memory_drops: int
    last_attempt_ok: bool | None  # None: no collector, or no upload tried yet
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _value(v: float) -> str:
    return repr(int(v)) if v.is_integer() else repr(v)


def render(families: Iterable[Family]) -> str:
    out = []
    for f in families:
        name = PREFIX + f.name
        out.append(f"# HELP {name} {f.help}")
        out.append(f"# TYPE {name} {f.kind}")
        for labels, value in f.samples:
            text = ",".join(f'{k}="{_escape(v)}"' for k, v in labels.items())
            out.append(f"{name}{{{text}}} {_value(value)}" if text else f"{name} {_value(value)}")
    return "\n".join(out) + "\n"


def families(s: Snapshot) -> list[Family]:
    st = s.outbox
    age = (s.now - st.oldest_queued).total_seconds() if st.oldest_queued else 0.0
    fams = [
        Family("info", "gauge", "The agent's name and version (always 1).").add(
            1, agent=s.agent, version=shared.__version__
        ),
        Family("outbox_segments", "gauge", "Segments waiting in the outbox to be uploaded.").add(
            st.queue_depth
        ),
        Family("outbox_events", "gauge", "Events waiting in the outbox to be uploaded.").add(
            st.queued_events
        ),
        Family("outbox_oldest_age_seconds", "gauge", "Age of the oldest segment waiting (0: none).").add(
            max(0.0, age)
        ),
        Family("outbox_parked", "gauge", "Rows the collector refused for good, kept aside.").add(st.parked),
        Family("outbox_bytes", "gauge", "Size of the outbox database on disk.").add(st.db_bytes),
        Family("dropped_total", "counter", "What was deleted or lost for lack of disk space.")
        .add(st.dropped_excerpts, what="excerpts")
        .add(st.dropped_fingerprints + s.memory_drops, what="fingerprints"),
        Family("segments_written_total", "counter", "Segments written to the outbox since the start.").add(
            s.segments_written
        ),
    ]
    uploads = Family("last_upload_timestamp_seconds", "gauge", "When the last upload was acknowledged.")
    if st.last_upload is not None:
        uploads.add(st.last_upload.timestamp())
    fams.append(uploads)
    ok = Family("upload_ok", "gauge", "1 if the last upload attempt succeeded, 0 if it failed.")
    if s.last_attempt_ok is not None:
        ok.add(1 if s.last_attempt_ok else 0)
    fams.append(ok)
    state = Family("source_state", "gauge", "1 for the station's current state, 0 for the others.")
    level = Family("source_level_dbfs", "gauge", "The station's last audio level in dBFS.")
    since = Family("source_state_since_timestamp_seconds", "gauge", "When the station entered its state.")
    reconnects = Family(
        "source_reconnects_total", "counter", "Times the station's source failed and was reconnected."
    )
    for src in s.sources:
        for each in SourceState:
            state.add(1 if src.state == each else 0, station=src.station, state=each.value)
        if src.level_dbfs is not None:
            level.add(src.level_dbfs, station=src.station)
        since.add(src.since.timestamp(), station=src.station)
        reconnects.add(s.reconnects.get(src.station, 0), station=src.station)
    return [*fams, state, level, since, reconnects]


def write_textfile(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` at once (readers see the old file or the new one)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)  # node_exporter runs as its own user
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def run_forever(path: Path, interval: float, snapshot: Callable[[], Snapshot], stop: threading.Event) -> None:
    """Write the textfile every ``interval`` seconds until ``stop``; a failure is logged once."""
    failing = False
    while not stop.is_set():
        try:
            write_textfile(path, render(families(snapshot())))
            if failing:
                log.info("metrics written to %s again", path)
            failing = False
        except Exception as exc:
            if not failing:
                log.error("metrics cannot be written to %s: %s (see docs/technician/metrics.md)", path, exc)
            failing = True
        stop.wait(interval)
