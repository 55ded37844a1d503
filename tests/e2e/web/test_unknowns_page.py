"""The labelling queue in a real browser: an analyst names an unknown song (correcting the
suggestion first) and rejects another, and sees each decision with who made it.

A real collector (its worker on) with the clusters two stations' real audio made through the
worker's own cycle (tests/integration/collector/unknowns/programmes.py); the page's decisions go
through the documented endpoints (the API itself is tested on both databases in
tests/integration/collector/unknowns/test_queue.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from collector.catalog.models import Recording
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.programmes import run_worker, two_stations
from tests.support.webapp import accessibility_problems, context, shot, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


@pytest.mark.backends("sqlite")  # the page; the queue's queries run on both in the API's tests
def test_an_analyst_names_and_rejects_unknown_songs(
    database_url: str, tmp_path: Path, browser: Browser, web_artifacts: Path
) -> None:
    c = Collector(database_url, tmp_path, extra_env={"SODAV_COLLECTOR_WORKER__POLL_INTERVAL_S": "0.2"})
    try:
        two_stations(c, tmp_path, song_z=True)
        run_worker(c)
        c.start()
        analyst = c.add_user("awa", "analyst")
        for lang in ("fr", "en"):  # a screenshot of the queue in each language
            ctx = context(browser, c.url, lang)
            page = ctx.new_page()
            sign_in(page, analyst, lang)
            page.goto("/unknowns")
            expect(page.locator("tbody tr")).to_have_count(3)
            shot(page, web_artifacts, f"{lang}-unknowns-queue")
            if lang == "fr":
                ctx.close()
        assert accessibility_problems(page) == []

        rows = page.locator("tbody tr")
        expect(rows.first).to_contain_text("No name suggested yet")  # AcoustID had nothing
        rows.first.get_by_role("button", name="Correct the name…").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Title").fill("Dëgg La")
        dialog.get_by_label("Artist").fill("Aïssatou Fall")
        dialog.get_by_label("ISRC").fill("SNA1B2600001")
        dialog.get_by_role("button", name="Save and accept").click()
        expect(dialog).to_have_count(0)
        expect(rows).to_have_count(2)  # out of the songs to decide

        rows.first.get_by_role("button", name="Reject: not music").click()
        page.get_by_role("group", name="Reject this song?").get_by_role("button", name="Yes").click()
        expect(rows).to_have_count(1)

        page.get_by_label("Show").select_option("decided")
        expect(rows).to_have_count(2)
        expect(page.get_by_role("main")).to_contain_text("Dëgg La — Aïssatou Fall")
        expect(page.get_by_role("main")).to_contain_text("Accepted by awa")
        expect(page.get_by_role("main")).to_contain_text("Rejected by awa")
        shot(page, web_artifacts, "en-unknowns-decided")
        ctx.close()
        with c.session() as s:  # the accepted song is a recording now, as the analyst named it
            learned = s.scalars(select(Recording).where(Recording.source == "manual")).one()
            named = (learned.title, learned.artist, learned.isrc)
            assert named == ("Dëgg La", "Aïssatou Fall", "SNA1B2600001")
    finally:
        c.close()
