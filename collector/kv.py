"""The optional Redis that several collector processes share (``redis_url``).

What uses it: the web application's live events (:mod:`collector.live.redis_broker`) and the
report answers kept for the next analyst (:mod:`collector.reports.cache`). Nothing is only in
Redis: a process that cannot reach it goes on without it, and every answer stays correct,
only slower. The first failure is logged (``redis is down``) and counted
(``sodav_redis_failures_total``); for ``RETRY_S`` seconds the process then does not even
try, and the first call that works again logs ``redis is back``. ``/metrics`` says
``sodav_redis_up``.

One client per process and URL (redis-py's connection pool is thread-safe).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from collector import instruments
from collector.settings import CollectorSettings

if TYPE_CHECKING:
    import redis

log = logging.getLogger("collector.redis")

RETRY_S = 5.0  # after a failure, how long the process goes on without trying Redis
TIMEOUT_S = 0.5  # a Redis that does not answer within this is down, for what asked it
T = TypeVar("T")


class SharedRedis:
    def __init__(self, url: str) -> None:
        import redis

        self.url = url
        self.client: redis.Redis = redis.Redis.from_url(
            url, socket_timeout=TIMEOUT_S, socket_connect_timeout=TIMEOUT_S
        )
        self.errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self._lock = threading.Lock()
        self._down_since: float | None = None
        self._retry_at = 0.0

    @property
    def up(self) -> bool:
        return self._down_since is None

    def run(self, use: str, call: Callable[[redis.Redis], T], fallback: T) -> T:
        """``call(client)``, or ``fallback`` if Redis fails (or failed less than ``RETRY_S`` ago)."""
        if self._down_since is not None and time.monotonic() < self._retry_at:
            return fallback
        try:
            result = call(self.client)
        except self.errors as exc:
            self.failed(use, exc)
            return fallback
        self.worked()
        return result

    def failed(self, use: str, exc: BaseException) -> None:
        instruments.REDIS_FAILURES.labels(use).inc()
        with self._lock:
            self._retry_at = time.monotonic() + RETRY_S
            if self._down_since is None:
                self._down_since = time.monotonic()
                log.error("redis is down (%s): %s goes on without it, slower; retrying", exc, use)

    def worked(self) -> None:
        if self._down_since is None:
            return
        with self._lock:
            if self._down_since is not None:
                log.warning("redis is back after %.0f s", time.monotonic() - self._down_since)
                self._down_since = None

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except self.errors:
            return False


_clients: dict[str, SharedRedis] = {}
_clients_lock = threading.Lock()


def redis_for(settings: CollectorSettings) -> SharedRedis | None:
    """This process's client for ``settings.redis_url``, or None when no Redis is configured."""
    url = settings.redis_url_value()
    if not url:
        return None
    with _clients_lock:
        if url not in _clients:
            _clients[url] = SharedRedis(url)
        return _clients[url]
