"""``sodav-collector webhooks|subscriptions|mail``: notifications from the server's shell."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from collector.db.session import open_database
from collector.formats import iso_z, print_table
from collector.notify import events, mail, repository, service
from collector.notify.models import Delivery
from collector.settings import load


def _csv(text: str | None) -> list[str]:
    return [x.strip() for x in (text or "").split(",") if x.strip()]


def _when(t: datetime | None) -> str:
    return iso_z(t, "seconds") if t else "-"


def _webhooks_add(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        hook, secret = service.create_webhook(
            s, args.url, _csv(args.events), _csv(args.stations), args.description
        )
        print(f"webhook {hook.id} created: {hook.url} receives {hook.events}")
    print(f"signing secret (shown once; keep it on the receiver): {secret}")
    return 0


def _webhooks_list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = [
            [str(h.id), h.url, h.events, h.stations or "all", h.description or ""]
            for h in repository.webhooks(s)
        ]
    print_table(rows, ["ID", "URL", "EVENTS", "STATIONS", "DESCRIPTION"])
    return 0


def _webhooks_remove(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        service.remove_webhook(s, args.id)
    print(f"webhook {args.id} removed, with its delivery log")
    return 0


def _webhooks_ping(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        delivery = service.ping(s, args.id)
    print(f"ping queued as delivery {delivery.id}; see `sodav-collector webhooks log` in a few seconds")
    return 0


def _log_rows(deliveries: list[Delivery]) -> list[list[str]]:
    return [
        [
            str(d.id),
            d.channel,
            d.event,
            str(d.webhook_id or d.subscription_id or "-"),
            d.status,
            str(d.attempts),
            _when(d.last_attempt_at),
            _when(d.next_attempt_at) if d.status == "pending" else "-",
            str(d.last_status or "-"),
            (d.last_error or "")[:80],
        ]
        for d in deliveries
    ]


def _webhooks_log(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = repository.deliveries(
            s, status=args.status, channel=args.channel, webhook_id=args.webhook, limit=args.limit
        )
        table = _log_rows(rows)
    print_table(
        table, ["ID", "CHANNEL", "EVENT", "TO", "STATUS", "TRIES", "LAST TRY", "NEXT TRY", "CODE", "ERROR"]
    )
    return 0


def _webhooks_replay(args: argparse.Namespace) -> int:
    since = datetime.fromisoformat(args.since).astimezone(UTC) if args.since else None
    with open_database(args.config) as db, db.transaction() as s:
        n = service.replay(
            s, args.ids, status="failed" if args.failed else None, webhook_id=args.webhook, since=since
        )
    print(f"{n} deliveries queued again; the worker sends them at its next delivery cycle")
    return 0


def _subscriptions_add(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        sub = service.subscribe_report(
            s, args.email, args.report, args.station or "all", args.format, args.lang
        )
        print(
            f"subscription {sub.id}: {sub.email} receives the {sub.report} report "
            f"({sub.scope}, {sub.fmt}, message in {sub.lang}) when it is generated"
        )
    return 0


def _subscriptions_list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = [
            [str(x.id), x.email, x.report, x.scope, x.fmt, x.lang] for x in repository.report_subscriptions(s)
        ]
    print_table(rows, ["ID", "EMAIL", "REPORT", "STATION", "FORMAT", "LANG"])
    return 0


def _subscriptions_remove(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        service.unsubscribe(s, args.id)
    print(f"subscription {args.id} removed")
    return 0


def _mail_test(args: argparse.Namespace) -> int:
    settings = load(args.config)
    try:
        mail.send(settings.mail, mail.test_message(settings, args.to, args.lang), settings.notify.timeout_s)
    except mail.MailError as exc:
        print(
            f"sodav-collector: sending to {args.to} through {settings.mail.host}:{settings.mail.port} "
            f"failed: {exc}",
            file=sys.stderr,
        )
        return 2
    print(f"test message sent to {args.to} through {settings.mail.host}:{settings.mail.port}")
    return 0


def register(sub: Any) -> None:
    wh = sub.add_parser(
        "webhooks", help="webhooks: final plays and station states to other systems"
    ).add_subparsers(dest="action", metavar="ACTION", required=True)
    p = wh.add_parser("add", help="add a webhook and print its signing secret (shown once)")
    p.add_argument("url", help="the receiver, e.g. https://erp.sodav.sn/hooks/sodav")
    p.add_argument("--events", required=True, help=f"comma-separated: {', '.join(events.EVENTS)}")
    p.add_argument("--stations", help="comma-separated station slugs (default: every station)")
    p.add_argument("--description")
    p.set_defaults(func=_webhooks_add)
    wh.add_parser("list", help="list webhooks").set_defaults(func=_webhooks_list)
    p = wh.add_parser("remove", help="remove a webhook and its delivery log")
    p.add_argument("id", type=int)
    p.set_defaults(func=_webhooks_remove)
    p = wh.add_parser("ping", help="send a test event to a webhook")
    p.add_argument("id", type=int)
    p.set_defaults(func=_webhooks_ping)
    p = wh.add_parser("log", help="the delivery log (webhooks and e-mails), newest first")
    p.add_argument("--status", choices=service.STATUSES)
    p.add_argument("--channel", choices=("webhook", "email"))
    p.add_argument("--webhook", type=int, help="only this webhook's deliveries")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=_webhooks_log)
    p = wh.add_parser("replay", help="send deliveries again (named ones, or --failed, --webhook, --since)")
    p.add_argument("ids", nargs="*", type=int, help="delivery ids from `webhooks log`")
    p.add_argument("--failed", action="store_true", help="every delivery that failed for good")
    p.add_argument("--webhook", type=int, help="only this webhook's deliveries")
    p.add_argument(
        "--since", help="only deliveries created since this time (ISO 8601, e.g. 2026-11-26T00:00Z)"
    )
    p.set_defaults(func=_webhooks_replay)

    su = sub.add_parser(
        "subscriptions", help="report files by e-mail when they are generated"
    ).add_subparsers(dest="action", metavar="ACTION", required=True)
    p = su.add_parser("add", help="subscribe an address to a scheduled report file")
    p.add_argument("email")
    p.add_argument("--report", required=True, choices=service.REPORTS)
    p.add_argument("--station", help="the station of a playlist (global reports: leave out)")
    p.add_argument("--format", choices=("xlsx", "pdf"), default="xlsx")
    p.add_argument("--lang", choices=service.LANGS, default="fr", help="language of the message (default fr)")
    p.set_defaults(func=_subscriptions_add)
    su.add_parser("list", help="list report subscriptions").set_defaults(func=_subscriptions_list)
    p = su.add_parser("remove", help="remove a report subscription")
    p.add_argument("id", type=int)
    p.set_defaults(func=_subscriptions_remove)

    ml = sub.add_parser("mail", help="the SMTP settings").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = ml.add_parser("test", help="send a test message now, through the configured SMTP server")
    p.add_argument("to")
    p.add_argument("--lang", choices=service.LANGS, default="fr")
    p.set_defaults(func=_mail_test)
