"""Screenshots of every page of the web app, in French and English, with headless Chromium.

To look at what the app shows a person, against a real collector with data:

1. a collector with plays, serving the built app: ``./dev demo --serve --dir /tmp/web-demo``
   (keeps its SQLite database and prints an admin's token), then ``sodav-collector users add
   moussa --role analyst`` with ``SODAV_COLLECTOR_DATABASE_URL=sqlite:////tmp/web-demo/collector.db``;
2. ``SODAV_ADMIN_TOKEN=sdu_… SODAV_ANALYST_TOKEN=sdu_… python web/scripts/screenshots.py
   --url http://127.0.0.1:PORT --station radio-demo``

The end-to-end tests (tests/e2e/web) take the same screenshots on every run.

Needs ``pip install playwright`` and Debian's ``chromium`` (no browser download). Writes PNG
files into ``web/screenshots/`` (not committed) and prints their names.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

HERE = Path(__file__).resolve().parent
# the few labels the script clicks, in each language (web/src/i18n)
LABELS = {
    "fr": {
        "add": "Ajouter une œuvre",
        "reason": "Jingle qui reprend un extrait",
        "review": "Vérification",
        "unflag": "Retirer le signalement",
        "span": "Durée",
        "evidence": "Preuves",
        "period": "Période",
        "token": "Jeton d'accès",
        "sign_in": "Se connecter",
    },
    "en": {
        "add": "Add a recording",
        "reason": "A jingle sampling the song",
        "review": "Review",
        "unflag": "Clear the flag",
        "span": "Span",
        "evidence": "Evidence",
        "period": "Period",
        "token": "API token",
        "sign_in": "Sign in",
    },
}
ANALYST_PAGES = (("/", "analyst-overview"), ("/catalog", "analyst-catalog"), ("/fleet", "analyst-fleet"))


def _shot(page: Page, out: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(400)  # fonts, the chart's first frame
    path = out / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(path)


def _pages(page: Page, base: str, out: Path, lang: str, station: str, files_period: str) -> None:
    label = LABELS[lang]

    def visit(path: str, name: str) -> None:
        page.goto(base + path)
        _shot(page, out, f"{lang}-{name}")

    visit("/", "overview")
    visit(f"/stations/{station}", "station")
    page.get_by_role("combobox", name=label["span"]).select_option("3600000")
    _shot(page, out, f"{lang}-station-zoom")
    visit("/plays", "plays")
    page.get_by_role("button", name=label["evidence"]).first.click()
    page.get_by_role("dialog").wait_for()
    _shot(page, out, f"{lang}-plays-evidence")
    dialog = page.get_by_role("dialog")
    unflag = dialog.get_by_role("button", name=label["unflag"])
    if unflag.count():  # flagged by an earlier run
        unflag.click()
    dialog.get_by_role("textbox").fill(label["reason"])
    dialog.locator("form button[type=submit]").click()
    dialog.get_by_role("heading", name=label["review"]).scroll_into_view_if_needed()
    page.wait_for_timeout(800)
    dialog.screenshot(path=str(out / f"{lang}-plays-evidence-flagged.png"))
    page.goto(base + "/reports?tab=playlist")
    page.get_by_role("combobox", name="Station").first.select_option(station)
    _shot(page, out, f"{lang}-reports-playlist")
    visit("/reports?tab=airtime", "reports-airtime")
    visit("/reports?tab=activity", "reports-activity")
    page.goto(base + "/reports?tab=files")
    page.get_by_role("textbox", name=label["period"]).fill(files_period)
    _shot(page, out, f"{lang}-reports-files")
    visit("/catalog", "catalog")
    page.get_by_role("button", name=label["add"]).click()
    page.get_by_role("dialog").wait_for()
    _shot(page, out, f"{lang}-catalog-add")
    page.keyboard.press("Escape")
    page.get_by_role("link").filter(has_text="DEMO-001").first.click()
    _shot(page, out, f"{lang}-recording")
    visit("/unknowns", "unknowns")
    for tab in ("stations", "agents", "users"):
        visit(f"/fleet?tab={tab}", f"fleet-{tab}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--url", default="http://127.0.0.1:8080", help="the collector serving the app")
    parser.add_argument("--station", default="rfm-dakar", help="the station page to show")
    parser.add_argument("--files-period", default="2026-11", help="the period of the generated files to show")
    parser.add_argument("--out", type=Path, default=HERE.parent / "screenshots")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--lang", choices=["fr", "en"], action="append", help="default: both")
    args = parser.parse_args(argv)
    admin, analyst = os.environ.get("SODAV_ADMIN_TOKEN"), os.environ.get("SODAV_ANALYST_TOKEN")
    if not admin or not analyst:
        print(
            "screenshots: set SODAV_ADMIN_TOKEN and SODAV_ANALYST_TOKEN (see the docstring)", file=sys.stderr
        )
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=["--no-sandbox"])
        for lang in args.lang or ["fr", "en"]:
            # the sign-in page, then the admin's pages
            context = browser.new_context(viewport={"width": 1366, "height": 860}, locale=f"{lang}-SN")
            page = context.new_page()
            page.add_init_script(f"localStorage.setItem('sodav.lang', '{lang}')")
            page.goto(args.url + "/")
            _shot(page, args.out, f"{lang}-sign-in")
            page.get_by_label(LABELS[lang]["token"]).fill(admin)
            page.get_by_role("button", name=LABELS[lang]["sign_in"]).click()
            page.get_by_role("navigation").first.wait_for()
            _pages(page, args.url, args.out, lang, args.station, args.files_period)
            context.close()
            # what an analyst sees: no fleet, no catalog upload
            context = browser.new_context(viewport={"width": 1366, "height": 860}, locale=f"{lang}-SN")
            page = context.new_page()
            page.add_init_script(f"localStorage.setItem('sodav.lang', '{lang}')")
            page.add_init_script(f"sessionStorage.setItem('sodav.token', '{analyst}')")
            for path, name in ANALYST_PAGES:
                page.goto(args.url + path)
                _shot(page, args.out, f"{lang}-{name}")
            context.close()
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
