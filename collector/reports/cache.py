"""Report answers kept for the next analyst who asks, until a play of their period changes.

An answer (the JSON of airtime or of a relevé for a period) is stored under a key made of
the question and of what it was computed from: the period's generation
(:mod:`collector.reports.changes`: bumped by the database whenever a final play or a flag of
its months changes), the catalog's version (titles, artists) and the stations' names. A
changed play makes a new key; the old answer is never served again and ages out. So an
answer is never stale, whichever process wrote the play, with or without Redis.

Where answers are kept: with ``redis_url``, in Redis, shared by every collector process
(``TTL_S``); always also in this process (the last ``LOCAL_MAX``), which is all there is
without Redis, or while Redis is down (:mod:`collector.kv`).
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from collector import instruments
from collector.catalog import repository as catalog_repository
from collector.fleet import repository as fleet_repository
from collector.kv import SharedRedis
from collector.reports import changes
from collector.reports.periods import Period

TTL_S = 3600
LOCAL_MAX = 256
PREFIX = "sodav:report:"


class ReportCache:
    def __init__(self, redis: SharedRedis | None = None, local_max: int = LOCAL_MAX) -> None:
        self.redis = redis
        self.local_max = local_max
        self._local: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def answer(
        self, session: Session, report: str, period: Period, question: Any, compute: Callable[[], Any]
    ) -> Any:
        """The cached answer to ``question`` about ``period``, or ``compute()``'s, kept."""
        key = PREFIX + _digest(report, period, question, _version(session, period))
        found = self._get(key)
        if found is not None:
            instruments.REPORT_CACHE.labels(report, "hit").inc()
            return json.loads(found)
        instruments.REPORT_CACHE.labels(report, "miss").inc()
        value = compute()
        self._put(key, json.dumps(value, separators=(",", ":")).encode())
        return value

    def _get(self, key: str) -> bytes | None:
        with self._lock:
            if key in self._local:
                self._local.move_to_end(key)
                return self._local[key]
        if self.redis is None:
            return None
        found = self.redis.run("report cache", lambda r: r.get(key), None)
        if isinstance(found, bytes):
            self._keep(key, found)
            return found
        return None

    def _put(self, key: str, data: bytes) -> None:
        self._keep(key, data)
        if self.redis is not None:
            self.redis.run("report cache", lambda r: r.set(key, data, ex=TTL_S), None)

    def _keep(self, key: str, data: bytes) -> None:
        with self._lock:
            self._local[key] = data
            self._local.move_to_end(key)
            while len(self._local) > self.local_max:
                self._local.popitem(last=False)


def _version(session: Session, period: Period) -> list[Any]:
    stations = [(s.id, s.slug, s.name) for s in fleet_repository.stations(session)]
    count, updated = catalog_repository.version(session)
    return [changes.generation(session, period), count, str(updated), stations]


def _digest(report: str, period: Period, question: Any, version: Any) -> str:
    text = json.dumps([report, period.label, period.tz.key, question, version], default=str)
    return hashlib.sha256(text.encode()).hexdigest()
