"""The delivery thread: send what the outbox holds, retry with backoff, give up visibly.

It runs beside the matching loop (``collector.worker.run_worker`` starts it), never inside
it: a slow or dead receiver costs this thread its timeouts, never a matching cycle or an
upload. Each cycle (every ``notify.interval_s``):

1. announces station state changes (:func:`collector.notify.events.watch_stations`);
2. leases up to ``notify.batch_size`` due deliveries and sends them one by one, each with a
   timeout of ``notify.timeout_s``; once a receiver fails in a cycle its other deliveries wait
   for the next one, so a dead receiver costs one timeout per cycle (for e-mail the receiver is
   the SMTP server, unless it refused just that address);
3. records each outcome: ``delivered``; or another attempt after an exponential backoff with
   jitter (``notify.backoff_s`` doubling up to ``notify.backoff_max_s``); or ``failed`` after
   ``notify.max_attempts`` attempts (``sodav-collector webhooks replay`` sends it again).

The retry schedule is kept in the database, not in a retry loop in memory (tenacity's model):
deliveries survive restarts, and several worker processes share them.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy.orm import Session, sessionmaker

from collector import instruments
from collector.db.session import open_database, transaction
from collector.notify import events, mail, repository, webhooks
from collector.notify.models import Delivery, ReportSubscription, Webhook
from collector.notify.webhooks import Outcome
from collector.settings import CollectorSettings

log = logging.getLogger("collector.notify")

ReadFile = Callable[[str], bytes]
LEASE = timedelta(minutes=5)
PRUNE_EVERY_S = 3600.0
PRUNE_BATCH = 10_000


def backoff(
    attempts: int, base_s: float, cap_s: float, rand: Callable[[], float] = random.random
) -> timedelta:
    """The wait after ``attempts`` failed attempts: the step doubles up to ``cap_s``; half of it is
    fixed, half random, so many deliveries to one receiver come back spread out."""
    step = min(cap_s, base_s * 2 ** max(0, attempts - 1))
    return timedelta(seconds=step / 2 + rand() * step / 2)


class Deliverer:
    """One delivery cycle at a time (:meth:`tick`); ``read_file`` reads a report file by name."""

    def __init__(self, settings: CollectorSettings, read_file: ReadFile, client: httpx.Client | None = None):
        self.settings = settings
        self.read_file = read_file
        self.client = client or httpx.Client(timeout=settings.notify.timeout_s, follow_redirects=False)
        self.pruned_at = float("-inf")

    def close(self) -> None:
        self.client.close()

    def tick(self, factory: sessionmaker[Session]) -> int:
        """Announce state changes and send what is due; returns the deliveries attempted."""
        offline = timedelta(seconds=self.settings.agent_offline_after_s)
        with transaction(factory) as session:
            events.watch_stations(session, offline)
        if time.monotonic() - self.pruned_at >= PRUNE_EVERY_S:
            self.prune(factory)
        now = datetime.now(UTC)
        with transaction(factory) as session:
            due = repository.claim_due(session, now, self.settings.notify.batch_size, LEASE)
            work = [(d, self._receiver(session, d)) for d in due]
        failing: set[tuple[str, int]] = set()
        attempted = 0
        for delivery, receiver in work:
            key = (delivery.channel, delivery.webhook_id or delivery.subscription_id or 0)
            if key in failing or (delivery.channel, 0) in failing:
                outcome = None  # this receiver (or the mail server) failed in this cycle: next one
            else:
                started = time.monotonic()
                outcome = self._send(delivery, receiver)
                instruments.NOTIFY_SECONDS.labels(delivery.channel).observe(time.monotonic() - started)
                attempted += 1
                if not outcome.ok:
                    # one SMTP server serves every address: unless it refused this one address,
                    # the other e-mails would fail the same way
                    server_wide = delivery.channel == "email" and not outcome.final
                    failing.add((delivery.channel, 0) if server_wide else key)
            with transaction(factory) as session:
                self._record(session, delivery.id, outcome)
        return attempted

    def prune(self, factory: sessionmaker[Session]) -> int:
        """Forget deliveries acknowledged more than ``notify.keep_delivered_days`` ago, a bounded
        batch at a time (the failed and pending ones stay until replayed or delivered)."""
        before = datetime.now(UTC) - timedelta(days=self.settings.notify.keep_delivered_days)
        with transaction(factory) as session:
            n = repository.prune_delivered(session, before, PRUNE_BATCH)
        self.pruned_at = float("-inf") if n == PRUNE_BATCH else time.monotonic()
        if n:
            log.info("delivery log: %d deliveries acknowledged before %s forgotten", n, before.date())
        return n

    def _receiver(self, session: Session, delivery: Delivery) -> Webhook | ReportSubscription | None:
        if delivery.channel == "webhook" and delivery.webhook_id is not None:
            return session.get(Webhook, delivery.webhook_id)
        if delivery.channel == "email" and delivery.subscription_id is not None:
            return session.get(ReportSubscription, delivery.subscription_id)
        return None

    def _send(self, delivery: Delivery, receiver: Webhook | ReportSubscription | None) -> Outcome:
        if isinstance(receiver, Webhook):
            return webhooks.post(self.client, receiver, delivery)
        if isinstance(receiver, ReportSubscription):
            return self._email(delivery, receiver)
        return Outcome(False, None, "its webhook or subscription no longer exists", final=True)

    def _email(self, delivery: Delivery, sub: ReportSubscription) -> Outcome:
        report = delivery.payload
        data: bytes | None = None
        if report["size"] <= self.settings.mail.max_attachment_mb * 1024 * 1024:
            try:
                data = self.read_file(report["name"])
            except Exception as exc:
                return Outcome(False, None, f"cannot read the report file: {exc}")
        message = mail.report_message(self.settings, sub.email, sub.lang, sub.id, report, data)
        try:
            mail.send(self.settings.mail, message, self.settings.notify.timeout_s)
        except mail.MailError as exc:
            return Outcome(False, exc.code, str(exc), final=exc.final)
        return Outcome(True, 250)

    def _record(self, session: Session, delivery_id: int, outcome: Outcome | None) -> None:
        row = session.get(Delivery, delivery_id)
        if row is None:
            return
        row.locked_until = None
        if outcome is None:
            return
        now = datetime.now(UTC)
        row.attempts += 1
        row.last_attempt_at = now
        row.last_status = outcome.status
        row.last_error = outcome.error
        where = f"delivery={row.id} channel={row.channel} event={row.event} attempt={row.attempts}"
        if outcome.ok:
            row.status, row.delivered_at = "delivered", now
            result = "delivered"
            log.info("notification delivered %s", where)
        elif outcome.final or row.attempts >= self.settings.notify.max_attempts:
            row.status = result = "failed"
            log.error("notification failed for good %s: %s (replay it once fixed)", where, outcome.error)
        else:
            cfg = self.settings.notify
            row.next_attempt_at = now + backoff(row.attempts, cfg.backoff_s, cfg.backoff_max_s)
            result = "retry"
            log.warning(
                "notification not delivered %s: %s; next attempt at %s",
                where,
                outcome.error,
                row.next_attempt_at.isoformat(timespec="seconds"),
            )
        instruments.NOTIFY_DELIVERIES.labels(row.channel, result).inc()


def run_deliveries(settings: CollectorSettings, stop: threading.Event, read_file: ReadFile) -> None:
    """Deliver until ``stop`` is set (the worker's delivery thread)."""
    deliverer = Deliverer(settings, read_file)
    try:
        with open_database(settings) as db:
            while not stop.is_set():
                try:
                    busy = deliverer.tick(db.sessions) >= settings.notify.batch_size
                except Exception:
                    log.exception("delivery cycle failed; retrying")
                    busy = False
                if not busy:
                    stop.wait(settings.notify.interval_s)
    finally:
        deliverer.close()


def start(settings: CollectorSettings, stop: threading.Event, read_file: ReadFile) -> threading.Thread | None:
    """The delivery thread, started (None when ``notify.enabled`` is false)."""
    if not settings.notify.enabled:
        return None
    thread = threading.Thread(
        target=run_deliveries, args=(settings, stop, read_file), name="notify-deliveries", daemon=True
    )
    thread.start()
    return thread
