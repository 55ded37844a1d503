"""The agent's disk: the budget policy for data_dir, and what to do when the disk is full.

Over budget (``buffer.disk_budget_mb``), space is taken back in this order, each step only
if the one before did not suffice: pages the outbox freed after uploads (nothing is lost),
the oldest excerpts, then unsent fingerprints older than ``buffer.keep_fingerprints_days``
(counted, reported in the heartbeat). Younger fingerprints are never dropped by policy.
"""

from __future__ import annotations

import logging
import shutil
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from edge_agent import sdnotify
from edge_agent.buffer.excerpts import Excerpts
from edge_agent.buffer.outbox import Outbox
from edge_agent.config import BufferSettings
from edge_agent.errors import BufferFull

__all__ = ["MIN_FREE_BYTES", "DiskBudget", "data_dir_ok", "disk_full", "wait_for_room"]

log = logging.getLogger("edge_agent.disk")


class DiskBudget:
    def __init__(self, root: Path, cfg: BufferSettings, outbox: Outbox, excerpts: Excerpts | None) -> None:
        self.root = root
        self.cfg = cfg
        self.outbox = outbox
        self.excerpts = excerpts

    def used(self) -> int:
        """Bytes under data_dir."""
        return sum(p.stat().st_size for p in self.root.rglob("*") if p.is_file())

    def enforce(self) -> None:
        """Over budget: oldest excerpts first; fingerprints only when older than keep_fingerprints_days."""
        if self.excerpts is not None:
            self.excerpts.prune()
        budget = int(self.cfg.disk_budget_mb * 1024 * 1024)
        used = self.used()
        if used <= budget:
            return
        try:  # space freed by uploads first: nothing is lost by that
            freed = self.outbox.reclaim()
        except BufferFull as exc:
            freed = 0
            log.error("disk budget: the outbox could not be compacted: %s", exc)
        if freed:
            log.info("disk budget: %d kB freed by compacting the outbox", freed >> 10)
            used = self.used()
            if used <= budget:
                return
        dropped = 0
        while self.excerpts is not None and used > budget and self.excerpts.total_bytes() > 0:
            dropped += self.excerpts.drop_oldest(5)
            used = self.used()
        if dropped:
            log.warning("disk budget %d MB reached: %d oldest excerpt(s) deleted", budget >> 20, dropped)
        if used > budget:
            keep = timedelta(days=self.cfg.keep_fingerprints_days)
            n = self.outbox.drop_fingerprints_before(datetime.now(UTC) - keep)
            if n:
                log.warning(
                    "disk budget reached: %d unsent segment(s) older than %s days dropped", n, keep.days
                )
            elif self.used() > budget:
                log.warning(
                    "disk budget %d MB exceeded by unsent fingerprints younger than %s days: kept "
                    "(policy); check the collector link",
                    budget >> 20,
                    keep.days,
                )


# What the agent needs free in data_dir to start: the outbox's -wal and -shm files, a page
# or two of rows, the first excerpt page.
MIN_FREE_BYTES = 1 << 20


def disk_full(path: Path) -> bool:
    """Is ``path``'s file system (nearly) full for this user? False if it cannot be read."""
    try:
        return shutil.disk_usage(path).free < MIN_FREE_BYTES
    except OSError:
        return False


def wait_for_room(path: Path, stop: threading.Event, every: float = 5.0) -> bool:
    """At start on a full disk, wait for room instead of exiting; False if stopped meanwhile.

    A full disk clears when someone frees space; exiting would put systemd's restart loop in
    its place, which gives up after ten tries (StartLimitBurst) and leaves the unit failed
    when the space comes back. The wait is said once, in the log and in systemd's status.
    """
    if not disk_full(path):
        return True
    log.error(
        "DISK FULL at start: %s has %d kB free; waiting for space (df -h %s; free old logs: "
        "sudo journalctl --vacuum-size=100M)",
        path,
        shutil.disk_usage(path).free >> 10,
        path,
    )
    sdnotify.ready()
    sdnotify.status(f"DISK FULL: waiting for space in {path}")
    while disk_full(path):
        sdnotify.watchdog()
        if stop.wait(every):
            return False
    log.warning("disk space is back in %s: starting", path)
    return True


def data_dir_ok(path: Path) -> str | None:
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_text("ok")
        probe.unlink()
    except OSError as exc:
        return f"data_dir {path} is not writable ({exc}); fix its owner or set data_dir"
    return None
