"""The gate every paid request passes: breaker, daily budget, rate, and the count.

A paid request is its own commit boundary, before and after it goes out:

1. **reserve** (one transaction, the service's row locked): an open breaker answers
   ``Stop`` and a spent daily budget ``RetryLater(tomorrow)``, neither sending anything;
   else the request takes the next rate slot and is counted ``pending``, and that is
   committed *before* the request leaves, so every worker and every process sees it (a crash
   while waiting for the answer still counts a request that may have been billed);
2. **send**, after waiting for the slot (AcoustID: 3 requests a second, across processes);
3. **record** (one transaction): ``pending`` becomes the outcome; a ``Stop`` opens the
   breaker until the next UTC day, or until ``sodav-collector recognizers reset``.

Requests that never left (no connection) are counted ``unreachable`` and do not use the
budget. Nothing here logs a key: outcomes carry none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from collector.db.session import transaction
from collector.recognizers import repository
from collector.recognizers.outcomes import Named, Outcome, RetryLater, Stop
from collector.recognizers.transport import tomorrow

log = logging.getLogger("collector.recognizers")

# acoustid.org/webservice: "Do not make more than 3 requests per second" (pyacoustid's
# REQUEST_INTERVAL); AudD documents no rate, its quota is per request
INTERVAL_S = {"acoustid": 1 / 3, "audd": 0.0}


class Gate:
    def __init__(self, sessions: sessionmaker[Session], budgets: dict[str, int]) -> None:
        self.sessions = sessions
        self.budgets = budgets

    def ask(self, service: str, call: Callable[[], Outcome]) -> Outcome:
        """Run ``call`` (one request to ``service``) if the breaker and the budget allow."""
        refused, wait, day = self._reserve(service)
        if refused is not None:
            return refused
        if wait > 0:
            time.sleep(wait)
        try:
            outcome = call()
        except BaseException:
            self._record(service, day, None)  # e.g. undecodable audio: nothing left, free the budget
            raise
        self._record(service, day, outcome)
        return outcome

    def _reserve(self, service: str) -> tuple[Outcome | None, float, date]:
        with transaction(self.sessions) as session:
            row = repository.lock_service(session, service)
            now = datetime.now(UTC)
            if row.breaker_open_until is not None and row.breaker_open_until > now:
                until = f"{row.breaker_open_until:%Y-%m-%d %H:%M} UTC"
                return Stop(f"{service} breaker open until {until}: {row.breaker_reason}"), 0.0, now.date()
            budget = self.budgets.get(service, 0)
            spent = repository.billable(session, service, now.date(), now.date())
            if spent >= budget:
                return (
                    RetryLater(
                        f"{service} daily budget of {budget} requests is spent "
                        f"(recognizers.{service}_daily_budget)",
                        tomorrow(),
                        sent=False,
                    ),
                    0.0,
                    now.date(),
                )
            slot = max(now, row.next_slot_at or now)
            row.next_slot_at = slot + timedelta(seconds=INTERVAL_S.get(service, 0.0))
            repository.count(session, service, now.date(), "pending")
        return None, (slot - now).total_seconds(), now.date()

    def _record(self, service: str, day: date, outcome: Outcome | None) -> None:
        """Turn the ``pending`` request reserved on ``day`` into its outcome."""
        with transaction(self.sessions) as session:
            row = repository.lock_service(session, service)
            repository.count(session, service, day, "pending", -1)
            if outcome is None:
                return
            kind = "unreachable" if isinstance(outcome, RetryLater) and not outcome.sent else outcome.kind
            repository.count(session, service, day, kind)
            if isinstance(outcome, Stop):
                row.breaker_open_until = tomorrow()
                row.breaker_opened_at = datetime.now(UTC)
                row.breaker_reason = outcome.why
        if isinstance(outcome, Stop):
            log.error("recognizer=%s stopped until tomorrow 00:00 UTC: %s", service, outcome.why)
        elif isinstance(outcome, Named):
            log.info("recognizer=%s named: %s", service, outcome.best.label_text())
        else:
            log.info("recognizer=%s outcome=%s: %s", service, outcome.kind, getattr(outcome, "why", ""))


def reset(session: Session, service: str) -> bool:
    """Close ``service``'s breaker; True if it was open."""
    row = repository.lock_service(session, service)
    was_open = row.breaker_open_until is not None and row.breaker_open_until > datetime.now(UTC)
    row.breaker_open_until = row.breaker_reason = row.breaker_opened_at = None
    return was_open
