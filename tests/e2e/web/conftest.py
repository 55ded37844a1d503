"""The web app in a real browser: Debian's headless Chromium driven by Playwright (no browser
download), against the app the collector serves from ``collector/web_dist``.

Screenshots go to ``tests/artifacts/web/`` (``SODAV_WEB_ARTIFACTS`` to change; not in git): look
at them before calling a change to the app done.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

ROOT = Path(__file__).resolve().parents[3]
CHROMIUM = Path(os.environ.get("SODAV_CHROMIUM", "/usr/bin/chromium"))
# as the machine's own probe starts it: no sandbox as root, no calls home on a closed network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def web_artifacts() -> Path:
    out = Path(os.environ.get("SODAV_WEB_ARTIFACTS", ROOT / "tests" / "artifacts" / "web"))
    out.mkdir(parents=True, exist_ok=True)
    return out


# per module, not per session: Playwright's sync API keeps an asyncio loop running in the
# worker's thread while it is open, and a later test on that pytest-xdist worker that calls
# asyncio.run() (tests/unit/collector/test_live_broker.py) would fail
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not (ROOT / "collector" / "web_dist" / "index.html").is_file():
        pytest.fail("the web app is not built: run ./dev setup (or npm ci && npm run build in web/)")
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (./dev setup does)")
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()
