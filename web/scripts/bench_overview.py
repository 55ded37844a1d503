"""Benchmark: the overview page with N stations (300 by default), in headless Chromium.

Measures, on the built app served by ``vite preview`` (see screenshots.py), how long the
browser takes from the stations' status answer to the whole station table on screen (the
render), from navigation to that table (JavaScript download and start included), and how long
clearing the filter takes to re-render the 300 rows. The collector is not involved: the
script answers the page's three requests itself (who am I, the stations' status, no live
stream) with N made-up stations of every state, so only the front end is measured.

    cd web && npm run build && npx vite preview --port 4173 &
    python web/scripts/bench_overview.py [--stations 300] [--runs 7]

Prints the median and worst of each measure and the command to reproduce them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Route, sync_playwright

STATES = ["online"] * 6 + ["silent", "stream_down", "agent_offline", "never_seen"]


def stations(n: int) -> list[dict[str, object]]:
    now = datetime.now(UTC)
    out: list[dict[str, object]] = []
    for i in range(n):
        state = STATES[i % len(STATES)]
        since = (now - timedelta(minutes=7 * i + 3)).isoformat()
        out.append(
            {
                "station": f"station-{i:03d}",
                "name": f"Radio {i:03d} FM",
                "state": state,
                "since": None if state == "never_seen" else since,
                "detail": None if state == "online" else "end of stream (the server closed the connection)",
                "level_dbfs": None if state == "never_seen" else -12.0 - (i % 30),
                "last_heartbeat_at": None if state == "never_seen" else since,
                "last_play": None
                if state == "never_seen"
                else {
                    "id": i,
                    "title": f"Titre numéro {i}",
                    "artist": f"Artiste {i % 40}",
                    "start": since,
                    "end": since,
                    "status": "open" if i % 3 else "final",
                },
            }
        )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:4173")
    parser.add_argument("--stations", type=int, default=300)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args(argv)
    status = json.dumps(stations(args.stations))
    me = json.dumps({"name": "bench", "role": "analyst", "timezone": "Africa/Dakar", "version": "bench"})

    def answer(route: Route) -> None:
        path = route.request.url.split("?")[0]
        if path.endswith("/api/v1/users/me"):
            route.fulfill(status=200, content_type="application/json", body=me)
        elif path.endswith("/api/v1/stations/status"):
            route.fulfill(status=200, content_type="application/json", body=status)
        else:  # no live stream: the page falls back to its one-minute refresh
            route.fulfill(status=503, content_type="application/json", body="{}")

    first: list[float] = []
    render: list[float] = []
    refilter: list[float] = []
    rows = f"table tbody tr:nth-child({args.stations})"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        for _ in range(args.runs):
            context = browser.new_context(viewport={"width": 1366, "height": 860})
            context.add_init_script("sessionStorage.setItem('sodav.token', 'sdu_bench')")
            context.route("**/api/v1/**", answer)
            page = context.new_page()
            page.goto(args.url + "/")
            page.wait_for_selector(rows)
            done = page.evaluate("performance.now()")
            first.append(done)
            answered = page.evaluate(
                "performance.getEntriesByType('resource')"
                ".find((e) => e.name.includes('/api/v1/stations/status')).responseEnd"
            )
            render.append(done - answered)
            box = page.get_by_role("textbox").first
            box.fill("Radio 1")
            page.wait_for_function(f"document.querySelectorAll('table tbody tr').length < {args.stations}")
            t0 = page.evaluate("performance.now()")
            box.fill("")
            page.wait_for_selector(rows)
            refilter.append(page.evaluate("performance.now()") - t0)
            context.close()
        browser.close()
    print(f"overview with {args.stations} stations, {args.runs} runs, headless Chromium, built app")
    for name, values in (
        ("status answered to full table (render)", render),
        ("navigation to full table", first),
        ("filter cleared to full table", refilter),
    ):
        print(f"  {name:40} median {statistics.median(values):6.0f} ms, worst {max(values):6.0f} ms")
    print(f"  reproduce: python web/scripts/bench_overview.py --stations {args.stations} --runs {args.runs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
