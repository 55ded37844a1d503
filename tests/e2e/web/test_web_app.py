"""The web application as its users meet it: a real browser on the app a real collector serves
(PostgreSQL and SQLite), filled by a real agent listening to a real stream.

The admin creates the station and the agent in the browser and enrolls a real ``sodav-agent``
with the code the page shows; the overview follows the station live, without reload and without
polling (server-sent events): online, a play appears, stream down when the stream stops, online
again when it is back. The analyst's work: filter plays, download the XLSX and open it, flag a
play and see it leave the relevé. An analyst sees no fleet page and the API refuses the fleet
endpoints. Every page, in French and English, is labelled and reachable with the keyboard, and
kept as a screenshot (tests/artifacts/web/).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import openpyxl
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from collector.catalog.service import upsert_recording
from collector.db.session import transaction
from collector.plays.models import Play
from tests.fixtures.collector import Collector, free_port
from tests.fixtures.streams import ffmpeg_http
from tests.support.agentproc import AgentProcess, agent_config, cli
from tests.support.audio import excerpt, track
from tests.support.webapp import PAGES, accessibility_problems, context, shot, sign_in

# the page's subject is the browser, not the database (the API it calls is tested on both):
# one backend, PostgreSQL, what the society runs
pytestmark = [pytest.mark.slow, pytest.mark.timeout(600), pytest.mark.backends("postgresql")]

STATION = "rfm"
SONG = ("DEMO-001", "Sabar du matin", "Awa Ndiaye")
SPEED = 8.0  # the first broadcast at 8× real time: the agent's times come from sample counts
LIVE = 90_000  # ms the page may take to show what the agent heard


def _programme(tmp: Path) -> tuple[Path, Path]:
    """The first broadcast: 60 s of the catalog song, then 5.5 min of music the catalog does not
    hold (so the song's play becomes final, 5 min later); the second: 40 s of that music."""
    song = excerpt(track(5), tmp / "song.mp3", 30, 60)
    other = excerpt(track(9), tmp / "other.mp3", 0, 200)
    more = excerpt(track(10), tmp / "more.mp3", 0, 135)
    first = tmp / "first.mp3"
    subprocess.run(
        [
            *("ffmpeg", "-v", "error", "-y", "-i", str(song), "-i", str(other), "-i", str(more)),
            *("-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1", "-c:a", "libmp3lame", "-b:a", "128k"),
            str(first),
        ],
        check=True,
    )
    return first, excerpt(track(9), tmp / "second.mp3", 60, 40)


def _row(page: Page, slug: str):  # type: ignore[no-untyped-def]
    return page.locator("tr").filter(has=page.get_by_text(slug, exact=True))


def _create_station_and_agent(page: Page) -> str:
    """As the admin: the station, then the agent; returns the enrollment code the page shows."""
    page.goto("/fleet?tab=stations")
    page.get_by_label("Slug").fill(STATION)
    page.get_by_label("Name", exact=True).fill("RFM Dakar")
    page.get_by_role("button", name="Create the station").click()
    expect(page.get_by_text(f"Station {STATION} created")).to_be_visible()
    page.goto("/fleet?tab=agents")
    page.get_by_label("Agent name").fill("box1")
    page.get_by_role("textbox", name=re.compile(r"^Stations")).fill(STATION)
    page.get_by_role("button", name="Create the agent").click()
    shown = page.get_by_role("status").filter(has_text="Enrollment code of box1")
    code = shown.locator("code").inner_text().strip()
    assert code.startswith("sde_")
    return code


def test_the_web_app_with_a_real_agent(
    backend: str, collector_with_worker: Collector, browser: Browser, tmp_path: Path, web_artifacts: Path
) -> None:
    c = collector_with_worker
    first, second = _programme(tmp_path)
    with transaction(c.tx) as s:
        upsert_recording(s, SONG[0], track(5), {"title": SONG[1], "artist": SONG[2]})
    admin = c.add_user("awa", "admin")
    analyst = c.add_user("moussa", "analyst")

    ctx = context(browser, c.url, "en", downloads=True)
    page = ctx.new_page()
    sign_in(page, admin, "en")
    code = _create_station_and_agent(page)
    # one variant instead of the full sweep while the agent runs 8× real time
    httpx.put(
        f"{c.url}/api/v1/stations/{STATION}/rate",
        json={"rate_ppm": 0},
        headers={"Authorization": f"Bearer {admin}"},
        timeout=10,
    ).raise_for_status()

    port = free_port()
    config = agent_config(
        tmp_path / "agent", "box1", c.url, None, {STATION: f"http://127.0.0.1:{port}/radio.mp3"}
    )
    config.write_text(
        config.read_text()
        .replace("segment_seconds = 2", "segment_seconds = 10")
        .replace("excerpt_hours = 0", "excerpt_hours = 1")  # it keeps the audio: proof of play
    )
    enrolled = cli(config, "enroll", c.url, code)
    assert enrolled.returncode == 0, enrolled.stdout + enrolled.stderr

    # the overview, live: no reload, and the state is not polled
    page.goto("/")
    row = _row(page, STATION)
    expect(row.locator(".state")).to_have_text("Never heard")
    status_requests: list[str] = []
    page.on("request", lambda r: status_requests.append(r.url) if "/stations/status" in r.url else None)
    page.evaluate("window.__sameDocument = true")

    agent = AgentProcess(config)
    try:
        with ffmpeg_http(first, SPEED, port=port):
            agent.start()
            expect(row.locator(".state")).to_have_text("Online", timeout=LIVE)
            expect(row).to_contain_text(SONG[1], timeout=LIVE)  # the play, while the stream runs
            shot(page, web_artifacts, f"{backend}-live-overview-play")
            # the stream ends with its file (ffmpeg serves it once): the station goes down
            expect(row.locator(".state")).to_have_text("Stream down", timeout=LIVE)
        with ffmpeg_http(second, 1.0, port=port):
            expect(row.locator(".state")).to_have_text("Online", timeout=LIVE)
        assert page.evaluate("window.__sameDocument") is True
        assert len(status_requests) <= 2, status_requests  # the events did the updating

        _wait_final_play(c)
        _plays_and_xlsx(page, tmp_path)
        if backend == "sqlite":  # the pages look the same on both: one set of screenshots
            _every_page(browser, c, admin, analyst, web_artifacts)
        _excerpt_from_the_agent(page)
        _flag_leaves_the_relevé(page)
        ctx.close()
        _analyst_has_no_fleet(browser, c, analyst)
    finally:
        agent.close()


def _wait_final_play(c: Collector) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with c.session() as s:
            if s.scalar(select(Play.id).where(Play.status == "final")) is not None:
                return
        time.sleep(1)
    raise AssertionError("no final play: the song's play should be final 5 min of audio later")


def _plays_and_xlsx(page: Page, tmp: Path) -> None:
    page.goto("/plays")
    page.get_by_role("combobox", name="Station").first.select_option(STATION)
    page.get_by_label("Artist").fill("awa")
    page.get_by_role("button", name="Apply").click()
    expect(page).to_have_url(re.compile(r"artist=awa"))
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text(SONG[1])
    with page.expect_download() as download:
        page.get_by_role("button", name="Export XLSX").click()
    path = tmp / download.value.suggested_filename
    download.value.save_as(path)
    sheet = openpyxl.load_workbook(path).active
    assert sheet is not None
    values = [tuple(r) for r in sheet.iter_rows(values_only=True)]
    assert any(SONG[1] in r and STATION in r for r in values), values[:10]


def _excerpt_from_the_agent(page: Page) -> None:
    """The analyst asks for the play's audio; the agent sends it after its next ack; it plays."""
    page.goto(f"/plays?station={STATION}&status=final")
    page.locator("tbody tr").filter(has_text=SONG[1]).first.get_by_role("button", name="Evidence").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Ask the agent for the excerpt").click()
    expect(dialog.get_by_text("Excerpt requested on")).to_be_visible()
    player = dialog.get_by_label("Listen to the excerpt")
    expect(player).to_be_visible(timeout=LIVE)
    # the song's first minute as aired, which Chromium decodes (Ogg/Opus)
    page.wait_for_function(
        "() => { const a = document.querySelector('[role=dialog] audio'); return a && a.duration > 30 }",
        timeout=30_000,
    )
    page.keyboard.press("Escape")


def _flag_leaves_the_relevé(page: Page) -> None:
    page.goto(f"/reports?tab=playlist&station={STATION}")
    page.get_by_role("combobox", name="Station").first.select_option(STATION)
    expect(page.get_by_role("table").first).to_contain_text(SONG[1])
    page.goto(f"/plays?station={STATION}&status=final")
    page.locator("tbody tr").filter(has_text=SONG[1]).first.get_by_role("button", name="Evidence").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Why is it wrong?").fill("a jingle sampling the song")
    dialog.get_by_role("button", name="Flag as wrong").click()
    expect(dialog.get_by_text("Flagged wrong by awa")).to_be_visible()
    page.keyboard.press("Escape")
    page.goto(f"/reports?tab=playlist&station={STATION}")
    page.get_by_role("combobox", name="Station").first.select_option(STATION)
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("main")).not_to_contain_text(SONG[1])


def _every_page(browser: Browser, c: Collector, admin: str, analyst: str, out: Path) -> None:
    """Each page in French and English: a screenshot; and (in one language: the controls are the
    same) every control labelled and reachable with Tab."""
    problems: dict[str, list[str]] = {}
    for lang in ("fr", "en"):
        ctx = context(browser, c.url, lang)
        page = ctx.new_page()
        page.goto("/sign-in")
        shot(page, out, f"{lang}-sign-in")
        if lang == "en":
            problems["sign-in"] = accessibility_problems(page)
        sign_in(page, admin, lang)
        for path, name in PAGES:
            page.goto(path.format(station=STATION, recording=SONG[0]))
            try:
                page.get_by_role("main").wait_for()
            except Exception:
                page.screenshot(path=str(out / f"FAILED-{lang}-{name}.png"), full_page=True)
                raise
            if name == "reports-playlist":  # the relevé of the station, not an empty form
                page.get_by_role("combobox", name="Station").first.select_option(STATION)
            shot(page, out, f"{lang}-{name}")
            if lang == "en":
                problems[name] = accessibility_problems(page)
        page.goto(f"/plays?station={STATION}")
        page.locator("tbody tr").first.get_by_role("button").first.click()
        page.get_by_role("dialog").wait_for()
        shot(page, out, f"{lang}-plays-evidence")
        ctx.close()
        ctx = context(browser, c.url, lang)
        page = ctx.new_page()
        sign_in(page, analyst, lang)
        page.goto("/fleet")
        shot(page, out, f"{lang}-analyst-fleet")
        ctx.close()
    bad = {k: v for k, v in problems.items() if v}
    assert not bad, "controls unlabelled or out of keyboard reach:\n" + "\n".join(
        f"{k}: {p}" for k, v in bad.items() for p in v[:5]
    )


def _analyst_has_no_fleet(browser: Browser, c: Collector, analyst: str) -> None:
    ctx = context(browser, c.url, "en")
    page = ctx.new_page()
    sign_in(page, analyst, "en")
    nav = page.get_by_role("navigation").first
    expect(nav.get_by_role("link", name="Plays")).to_be_visible()
    expect(nav.get_by_role("link", name="Fleet")).to_have_count(0)
    page.goto("/fleet?tab=agents")
    expect(page.get_by_text("Your role does not give access to this page.")).to_be_visible()
    expect(page.get_by_role("button", name="Create the agent")).to_have_count(0)
    page.goto("/catalog")
    expect(page.get_by_role("button", name="Add a recording")).to_have_count(0)
    ctx.close()
    headers = {"Authorization": f"Bearer {analyst}"}
    for path in ("/api/v1/agents", "/api/v1/users", "/api/v1/stations"):
        r = httpx.get(c.url + path, headers=headers, timeout=10)
        assert r.status_code == 403 and r.json()["error"] == "FORBIDDEN_ROLE"
    r = httpx.post(
        c.url + "/api/v1/agents", json={"name": "x", "stations": [STATION]}, headers=headers, timeout=10
    )
    assert r.status_code == 403


@pytest.fixture
def collector_with_worker(database_url: str, tmp_path: Path) -> Iterator[Collector]:
    """The collector as deployed: HTTP and the matching worker in one process."""
    c = Collector(
        database_url,
        tmp_path,
        extra_env={
            "SODAV_COLLECTOR_WORKER__ENABLED": "true",
            "SODAV_COLLECTOR_WORKER__POLL_INTERVAL_S": "0.5",
        },
    )
    c.start()
    try:
        yield c
    finally:
        c.close()
