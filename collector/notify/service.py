"""Webhook and report subscriptions, the delivery log and replays. Nothing here commits."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from collector.errors import InvalidRequest, NotFound
from collector.fleet import repository as fleet_repository
from collector.fleet.models import User
from collector.notify import events, repository, signing
from collector.notify.models import Delivery, ReportSubscription, Webhook

REPORTS = ("airtime", "activity", "playlist")
FORMATS = {"airtime": ("xlsx",), "activity": ("xlsx",), "playlist": ("xlsx", "pdf")}
LANGS = ("fr", "en")
STATUSES = ("pending", "delivered", "failed")
_EMAIL = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


class NotifyError(InvalidRequest):
    """A subscription or a replay that cannot be made as asked; the message says why."""


class NotifyNotFound(NotFound):
    pass


def _stations(session: Session, slugs: Sequence[str]) -> str | None:
    if not slugs:
        return None
    known = fleet_repository.station_ids(session, slugs)
    missing = [s for s in slugs if s not in known]
    if missing:
        raise NotifyError(f"unknown station(s) {', '.join(missing)}: see `sodav-collector stations list`")
    return ",".join(sorted(set(slugs)))


def create_webhook(
    session: Session,
    url: str,
    event_types: Sequence[str],
    stations: Sequence[str] = (),
    description: str | None = None,
) -> tuple[Webhook, str]:
    """A new webhook; returns it with its signing secret (shown once: keep it on the receiver)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise NotifyError(f"webhook URL {url!r} is not an http(s) URL, e.g. https://erp.sodav.sn/hooks/plays")
    wanted = list(dict.fromkeys(event_types))
    unknown = [e for e in wanted if e not in events.EVENTS]
    if not wanted or unknown:
        raise NotifyError(
            f"events must be among {', '.join(events.EVENTS)} (got {', '.join(event_types) or 'none'})"
        )
    secret = signing.new_secret()
    hook = Webhook(
        url=url,
        events=",".join(wanted),
        stations=_stations(session, stations),
        description=description,
        secret=secret,
        active=True,
    )
    session.add(hook)
    session.flush()
    return hook, secret


def get_webhook(session: Session, webhook_id: int) -> Webhook:
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise NotifyNotFound(f"no webhook {webhook_id}: see `sodav-collector webhooks list`")
    return hook


def remove_webhook(session: Session, webhook_id: int) -> None:
    """Delete a webhook and its delivery log (pending deliveries are not sent)."""
    session.delete(get_webhook(session, webhook_id))
    session.flush()


def ping(session: Session, webhook_id: int) -> Delivery:
    return events.ping(session, get_webhook(session, webhook_id))


def subscribe_report(
    session: Session,
    email: str,
    report: str,
    scope: str = "all",
    fmt: str = "xlsx",
    lang: str = "fr",
    user: User | None = None,
) -> ReportSubscription:
    """Subscribe an address to a scheduled report file (one report, one scope, one format)."""
    if not _EMAIL.match(email):
        raise NotifyError(f"{email!r} is not an e-mail address")
    if report not in REPORTS:
        raise NotifyError(f"report must be one of {', '.join(REPORTS)}")
    if fmt not in FORMATS[report]:
        raise NotifyError(
            f"the scheduled {report} report is made as {' and '.join(FORMATS[report])}, not {fmt}"
        )
    if lang not in LANGS:
        raise NotifyError("lang must be fr or en")
    if report == "playlist" and scope == "all":
        raise NotifyError("playlists are made per station: name one (--station SLUG)")
    if report != "playlist" and scope != "all":
        raise NotifyError(f"the scheduled {report} report covers all stations: leave the station out")
    if scope != "all":
        _stations(session, [scope])
    if any(
        (s.email, s.report, s.scope, s.fmt) == (email, report, scope, fmt)
        for s in repository.subscribers(session, report, scope, fmt)
    ):
        raise NotifyError(f"{email} already receives the {report} report ({scope}, {fmt})")
    sub = ReportSubscription(
        email=email, report=report, scope=scope, fmt=fmt, lang=lang, user_id=user.id if user else None
    )
    session.add(sub)
    session.flush()
    return sub


def get_subscription(session: Session, subscription_id: int, user: User | None = None) -> ReportSubscription:
    """A subscription; an analyst (``user``, not admin) sees only their own."""
    sub = session.get(ReportSubscription, subscription_id)
    if sub is None or (user is not None and user.role != "admin" and sub.user_id != user.id):
        raise NotifyNotFound(f"no report subscription {subscription_id}")
    return sub


def unsubscribe(session: Session, subscription_id: int, user: User | None = None) -> None:
    session.delete(get_subscription(session, subscription_id, user))
    session.flush()


def replay(
    session: Session,
    ids: Sequence[int] = (),
    *,
    status: str | None = None,
    webhook_id: int | None = None,
    since: datetime | None = None,
    limit: int = 1000,
) -> int:
    """Send deliveries again: the ones named, or those of a status (``failed``), a webhook, a time."""
    if not ids and status is None and webhook_id is None and since is None:
        raise NotifyError("name deliveries to replay, or a filter: --failed, --webhook ID, --since TIME")
    if status is not None and status not in STATUSES:
        raise NotifyError(f"status must be one of {', '.join(STATUSES)}")
    if ids:
        found = repository.existing_deliveries(session, ids)
        missing = sorted(set(ids) - found)
        if missing:
            raise NotifyNotFound(
                f"no delivery {', '.join(map(str, missing))}: see `sodav-collector webhooks log`"
            )
        chosen = sorted(found)
    else:
        rows = repository.deliveries(session, status=status, webhook_id=webhook_id, since=since, limit=limit)
        chosen = [d.id for d in rows]
    return repository.make_pending(session, chosen, datetime.now(UTC)) if chosen else 0
