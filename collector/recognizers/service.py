"""The configured recognition services, behind the gate; and their state for operators.

:class:`Recognizers` is what the collector uses to ask AcoustID and AudD: the clients are
built from ``[recognizers]`` (base URLs, keys read from their ``*_file`` at start), and each
request passes :class:`~collector.recognizers.gate.Gate`. A service without a key is off:
asking it answers ``Stop`` and sends nothing. What decides *whether* to ask (music, not
speech; one lookup per cluster) is the caller's: see :mod:`collector.musicness`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
from sqlalchemy.orm import Session, sessionmaker

from collector.recognizers import repository
from collector.recognizers.acoustid import AcoustID
from collector.recognizers.audd import AudD
from collector.recognizers.clip import AUDD_MAX_SECONDS
from collector.recognizers.gate import Gate
from collector.recognizers.models import SERVICES
from collector.recognizers.outcomes import Outcome, Stop
from collector.settings import CollectorSettings

__all__ = ["Recognizers", "ServiceStatus", "status"]


class Recognizers:
    def __init__(
        self,
        settings: CollectorSettings,
        sessions: sessionmaker[Session],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        rec = settings.recognizers
        self.gate = Gate(sessions, {"acoustid": rec.acoustid_daily_budget, "audd": rec.audd_daily_budget})
        key, token = settings.acoustid_key_value(), settings.audd_token_value()
        self.acoustid = AcoustID(rec.acoustid_url, key, rec.timeout_s, transport) if key else None
        self.audd = AudD(rec.audd_url, token, rec.timeout_s, transport) if token else None

    def close(self) -> None:
        for client in (self.acoustid, self.audd):
            if client is not None:
                client.close()

    def __enter__(self) -> Recognizers:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def acoustid_lookup(self, values: Sequence[int], duration_s: float) -> Outcome:
        """AcoustID about a fingerprint (raw values) of ``duration_s`` seconds."""
        client = self.acoustid
        if client is None:
            return Stop("AcoustID is off: set recognizers.acoustid_key_file")
        return self.gate.ask("acoustid", lambda: client.lookup(values, duration_s))

    def audd_recognize(
        self, path: Path | str, start_s: float = 0.0, seconds: float = AUDD_MAX_SECONDS
    ) -> Outcome:
        """AudD about at most 12 s of ``path`` from ``start_s``."""
        client = self.audd
        if client is None:
            return Stop("AudD is off: set recognizers.audd_token_file")
        return self.gate.ask("audd", lambda: client.recognize(path, start_s, seconds))


@dataclass(frozen=True)
class ServiceStatus:
    service: str
    configured: bool
    url: str
    today: dict[str, int]  # requests by outcome, today (UTC)
    requests_today: int  # billable: every request that left the collector
    budget: int
    month_requests: int
    usd_per_1000: float
    breaker_open_until: datetime | None
    breaker_reason: str | None

    @property
    def budget_left(self) -> int:
        return max(0, self.budget - self.requests_today)

    @property
    def month_cost_usd(self) -> float:
        return self.month_requests * self.usd_per_1000 / 1000.0

    @property
    def breaker_open(self) -> bool:
        return self.breaker_open_until is not None and self.breaker_open_until > datetime.now(UTC)


def status(session: Session, settings: CollectorSettings, day: date | None = None) -> list[ServiceStatus]:
    """Each service's requests today, budget left, breaker and month's cost at the list price."""
    rec = settings.recognizers
    day = day or datetime.now(UTC).date()
    first = day.replace(day=1)
    out = []
    for service in SERVICES:
        row = repository.service_row(session, service)
        configured = (
            settings.acoustid_key_value() if service == "acoustid" else settings.audd_token_value()
        ) is not None
        out.append(
            ServiceStatus(
                service=service,
                configured=configured,
                url=rec.acoustid_url if service == "acoustid" else rec.audd_url,
                today=repository.by_outcome(session, service, day),
                requests_today=repository.billable(session, service, day, day),
                budget=rec.acoustid_daily_budget if service == "acoustid" else rec.audd_daily_budget,
                month_requests=repository.billable(session, service, first, day),
                usd_per_1000=rec.acoustid_usd_per_1000 if service == "acoustid" else rec.audd_usd_per_1000,
                breaker_open_until=row.breaker_open_until if row else None,
                breaker_reason=row.breaker_reason if row else None,
            )
        )
    return out
