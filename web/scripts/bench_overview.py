"""Benchmark: the overview page with N stations (300 by default), in headless Chromium, against a
real collector serving the built app.

The script makes a throwaway SQLite collector database with N stations in every state, each with
its latest play, starts ``sodav-collector serve`` on it (the app from ``collector/web_dist``, the
live event stream open as in production) and measures, over several page loads:

- the collector's answer to ``GET /api/v1/stations/status`` (request sent to last byte);
- from that answer to the whole table on screen (the render);
- from navigation to the whole table (JavaScript download and start included);
- clearing the filter to the N rows on screen again.

    ./dev setup     # builds collector/web_dist
    .venv/bin/python web/scripts/bench_overview.py [--stations 300] [--runs 7]

Prints the median and worst of each measure and the command to reproduce them.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

from collector.catalog.models import Recording
from collector.db.engine import make_engine, make_sessionmaker
from collector.db.migrate import upgrade
from collector.db.session import transaction
from collector.fleet.models import Station, StationStatus
from collector.fleet.service import create_user
from collector.plays.models import Play

STATES = ["online"] * 6 + ["silent", "stream_down", "agent_offline", "never_seen"]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def seed(url: str, n: int) -> str:
    """N stations in every state, each with its latest play; returns an analyst's token."""
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    with transaction(make_sessionmaker(engine)) as s:
        recs = [
            Recording(
                external_id=f"BENCH-{i:03d}",
                title=f"Titre numéro {i}",
                artist=f"Artiste {i % 40}",
                duration=240.0,
                fingerprint=b"\0" * 16,
                fingerprint_sha256=f"{i:064d}",
            )
            for i in range(40)
        ]
        s.add_all(recs)
        s.flush()
        for i in range(n):
            state = STATES[i % len(STATES)]
            st = Station(slug=f"station-{i:03d}", name=f"Radio {i:03d} FM")
            s.add(st)
            s.flush()
            since = now - timedelta(minutes=7 * i + 3)
            if state == "never_seen":
                continue
            heard = now - timedelta(hours=1) if state == "agent_offline" else now
            s.add(
                StationStatus(
                    station_id=st.id,
                    state="online" if state == "agent_offline" else state,
                    since=since,
                    detail=None if state == "online" else "end of stream (the server closed the connection)",
                    level_dbfs=-12.0 - (i % 30),
                    last_heartbeat_at=heard,
                )
            )
            s.add(
                Play(
                    station_id=st.id,
                    recording_id=recs[i % 40].id,
                    start=since,
                    end=since + timedelta(minutes=3),
                    duration=180.0,
                    offset_start=0.0,
                    offset_end=180.0,
                    confidence=0.9,
                    matched_fraction=0.9,
                    status="open" if i % 3 else "final",
                )
            )
        _user, token = create_user(s, "bench", "analyst")
    engine.dispose()
    return token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="sodav-bench-overview-"))
    db = f"sqlite:///{work / 'collector.db'}"
    token = seed(db, args.stations)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(
        os.environ,
        SODAV_COLLECTOR_DATABASE_URL=db,
        SODAV_COLLECTOR_WORKER__ENABLED="false",
        SODAV_COLLECTOR_ENVIRONMENT="development",
        SODAV_COLLECTOR_LOG_LEVEL="WARNING",
    )
    server = subprocess.Popen(
        [sys.executable, "-m", "collector.cli", "serve", "--port", str(port), "--no-migrate"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        return _measure(base, token, args)
    finally:
        server.terminate()
        server.wait(20)


def _measure(base: str, token: str, args: argparse.Namespace) -> int:
    answer: list[float] = []
    first: list[float] = []
    render: list[float] = []
    refilter: list[float] = []
    rows = f"table tbody tr:nth-child({args.stations})"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for _ in range(args.runs):
            context = browser.new_context(viewport={"width": 1366, "height": 860})
            context.add_init_script(f"sessionStorage.setItem('sodav.token', '{token}')")
            page = context.new_page()
            page.goto(base + "/")
            page.wait_for_selector(rows)
            done = page.evaluate("performance.now()")
            first.append(done)
            timing = page.evaluate(
                "(() => { const e = performance.getEntriesByType('resource')"
                ".find((e) => e.name.includes('/api/v1/stations/status'));"
                " return [e.requestStart, e.responseEnd]; })()"
            )
            answer.append(timing[1] - timing[0])
            render.append(done - timing[1])
            box = page.get_by_role("textbox").first
            box.fill("Radio 1")
            page.wait_for_function(f"document.querySelectorAll('table tbody tr').length < {args.stations}")
            t0 = page.evaluate("performance.now()")
            box.fill("")
            page.wait_for_selector(rows)
            refilter.append(page.evaluate("performance.now()") - t0)
            context.close()
        browser.close()
    print(f"overview with {args.stations} stations, {args.runs} runs, Chromium, real collector (SQLite)")
    for name, values in (
        ("collector: /stations/status answered", answer),
        ("status answered to full table (render)", render),
        ("navigation to full table", first),
        ("filter cleared to full table", refilter),
    ):
        print(f"  {name:40} median {statistics.median(values):6.0f} ms, worst {max(values):6.0f} ms")
    print(f"  reproduce: python web/scripts/bench_overview.py --stations {args.stations} --runs {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
