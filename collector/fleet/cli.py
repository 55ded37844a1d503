"""``sodav-collector stations|agents|users``: manage the fleet from the server's shell."""

from __future__ import annotations

import argparse
from datetime import timedelta
from typing import Any

from collector.db.session import open_database
from collector.fleet import audit, repository, service
from collector.formats import print_table, rate_percent


def _stations_add(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        st = service.create_station(s, args.slug, args.name, city=args.city, frequency=args.frequency)
        audit.record(s, audit.cli_actor(), "station.create", st.slug, name=st.name)
        print(f"station {st.slug} created")
    return 0


def _stations_list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = [
            [
                st.slug,
                st.name,
                st.city or "",
                f"{rate_percent(st.rate_ppm)}%" if st.rate_ppm is not None else "?",
            ]
            for st in repository.stations(s)
        ]
    print_table(rows, ["STATION", "NAME", "CITY", "RATE"])
    return 0


def _stations_rate(args: argparse.Namespace) -> int:
    ppm = None if args.learn else round(args.percent * 10_000)
    with open_database(args.config) as db, db.transaction() as s:
        service.set_rate(s, args.slug, ppm)
        audit.record(s, audit.cli_actor(), "station.rate", args.slug, rate_ppm=ppm)
    if ppm is None:
        print(f"station {args.slug}: playback rate forgotten; the agents sweep until it is learned again")
    else:
        print(f"station {args.slug}: playback rate pinned at {rate_percent(ppm)}% (the learner leaves it)")
    return 0


def _stations_status(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        views = service.station_statuses(s, timedelta(seconds=db.settings.agent_offline_after_s))
    rows = [
        [v.station, v.state, v.since.isoformat(timespec="seconds") if v.since else "-", v.detail or ""]
        for v in views
    ]
    print_table(rows, ["STATION", "STATE", "SINCE (UTC)", "DETAIL"])
    return 0


def _agents_add(args: argparse.Namespace) -> int:
    slugs = [x.strip() for x in args.stations.split(",") if x.strip()]
    with open_database(args.config) as db, db.transaction() as s:
        agent, code = service.create_agent(s, args.name, slugs)
        audit.record(s, audit.cli_actor(), "agent.create", agent.name, stations=sorted(slugs))
        print(f"agent {agent.name} created for stations {', '.join(slugs)}")
        print(f"enrollment code (valid 24 h, shown once): {code}")
        url = args.url or db.settings.public_url or "https://COLLECTOR"
        print(f"on the agent box: sodav-agent enroll {url} {code}")
    return 0


def _agents_code(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        agent = service.get_agent(s, args.name)
        audit.record(s, audit.cli_actor(), "agent.enroll_code", agent.name)
        print(f"enrollment code (valid 24 h, shown once): {service.new_enrollment_code(s, agent)}")
    return 0


def _agents_stations(args: argparse.Namespace) -> int:
    slugs = [x.strip() for x in args.stations.split(",") if x.strip()]
    with open_database(args.config) as db, db.transaction() as s:
        agent = service.set_agent_stations(s, args.name, slugs)
        audit.record(s, audit.cli_actor(), "agent.stations", agent.name, stations=sorted(slugs))
        print(f"agent {agent.name} now writes stations {', '.join(slugs)} (its token is unchanged)")
    return 0


def _agents_list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = [
            [
                a.name,
                ",".join(sorted(st.slug for st in a.stations)),
                a.last_seen_at.isoformat(timespec="seconds") if a.last_seen_at else "never",
                a.version or "",
            ]
            for a in repository.agents(s)
        ]
    print_table(rows, ["AGENT", "STATIONS", "LAST SEEN (UTC)", "VERSION"])
    return 0


def _agents_revoke(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        n = service.revoke_agent(s, args.name)
        audit.record(s, audit.cli_actor(), "agent.revoke", args.name, revoked=n)
    print(f"agent {args.name}: {n} token(s) revoked; it can no longer upload")
    return 0


def _users_add(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        user, token = service.create_user(s, args.name, args.role)
        audit.record(s, audit.cli_actor(), "user.create", user.name, role=user.role)
        print(f"user {user.name} ({user.role}) created")
        print(f"API token (shown once): {token}")
    return 0


def _users_token(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        token = service.new_user_token(s, args.name, revoke_others=args.revoke_others)
        audit.record(s, audit.cli_actor(), "user.token", args.name, revoke_others=args.revoke_others)
    if args.revoke_others:
        print(f"user {args.name}: previous tokens revoked")
    print(f"API token (shown once): {token}")
    return 0


def _users_role(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        user = service.set_role(s, args.name, args.role)
        audit.record(s, audit.cli_actor(), "user.role", user.name, role=user.role)
    print(f"user {args.name} is now {args.role}")
    return 0


def _audit(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = [
            [
                e.at.isoformat(timespec="seconds"),
                e.actor,
                e.action,
                e.target,
                " ".join(f"{k}={v}" for k, v in sorted((e.detail or {}).items())),
            ]
            for e in audit.entries(s, args.limit, args.target)
        ]
    print_table(rows, ["WHEN (UTC)", "WHO", "ACTION", "TARGET", "DETAIL"])
    return 0


def _users_list(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        rows = [[u.name, u.role] for u in repository.users(s)]
    print_table(rows, ["USER", "ROLE"])
    return 0


def _users_revoke(args: argparse.Namespace) -> int:
    with open_database(args.config) as db, db.transaction() as s:
        n = service.revoke_user(s, args.name)
        audit.record(s, audit.cli_actor(), "user.revoke", args.name, revoked=n)
    print(f"user {args.name}: {n} token(s) revoked")
    return 0


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="who did what to the fleet, plays and reports, latest first")
    p.add_argument("--limit", type=int, default=50, help="how many entries (default 50)")
    p.add_argument("--target", help="only the entries about this station, agent, user or play")
    p.set_defaults(func=_audit)

    st = sub.add_parser("stations", help="radio stations").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = st.add_parser("add", help="create a station")
    p.add_argument("slug", help="short id, e.g. rfm-dakar")
    p.add_argument("--name")
    p.add_argument("--city")
    p.add_argument("--frequency")
    p.set_defaults(func=_stations_add)
    st.add_parser("list", help="list stations").set_defaults(func=_stations_list)
    st.add_parser("status", help="online, silent, stream_down or agent_offline, since when").set_defaults(
        func=_stations_status
    )
    p = st.add_parser("rate", help="pin a station's playback rate, or let it be learned again")
    p.add_argument("slug")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--percent", type=float, help="the rate to pin, e.g. -2.5 (a multiple of 0.1)")
    which.add_argument("--learn", action="store_true", help="forget the rate: full sweep until learned")
    p.set_defaults(func=_stations_rate)

    ag = sub.add_parser("agents", help="edge agents").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = ag.add_parser("add", help="create an agent and print its one-time enrollment code")
    p.add_argument("name")
    p.add_argument("--stations", required=True, help="comma-separated station slugs")
    p.add_argument("--url", help="collector URL to show in the enrollment hint (default: public_url)")
    p.set_defaults(func=_agents_add)
    p = ag.add_parser("enroll-code", help="a new enrollment code for an existing agent")
    p.add_argument("name")
    p.set_defaults(func=_agents_code)
    p = ag.add_parser("stations", help="replace the stations an agent may write")
    p.add_argument("name")
    p.add_argument("--stations", required=True, help="comma-separated station slugs")
    p.set_defaults(func=_agents_stations)
    ag.add_parser("list", help="list agents").set_defaults(func=_agents_list)
    p = ag.add_parser("revoke", help="revoke every token of an agent")
    p.add_argument("name")
    p.set_defaults(func=_agents_revoke)

    us = sub.add_parser("users", help="people: admin or analyst").add_subparsers(
        dest="action", metavar="ACTION", required=True
    )
    p = us.add_parser("add", help="create a user and print its API token")
    p.add_argument("name")
    p.add_argument("--role", choices=service.ROLES, required=True)
    p.set_defaults(func=_users_add)
    p = us.add_parser("token", help="a new API token for an existing user")
    p.add_argument("name")
    p.add_argument("--revoke-others", action="store_true", help="revoke the user's previous tokens")
    p.set_defaults(func=_users_token)
    us.add_parser("list", help="list users").set_defaults(func=_users_list)
    p = us.add_parser("role", help="change a user's role (never the last admin's)")
    p.add_argument("name")
    p.add_argument("--role", choices=service.ROLES, required=True)
    p.set_defaults(func=_users_role)
    p = us.add_parser("revoke", help="revoke every token of a user")
    p.add_argument("name")
    p.set_defaults(func=_users_revoke)
