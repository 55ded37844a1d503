"""The labelling queue over HTTP and from the shell: clusters by airtime, edit, accept, reject,
merge; every decision with who and when; an accepted song's plays are then matched locally.

A real collector (uvicorn, its worker on) over both databases; the clusters come from two
stations' real audio through the worker's own cycle.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from collector.catalog.models import Recording
from collector.cli import main
from collector.fleet.audit import entries
from collector.plays.models import Play
from tests.fixtures.collector import Collector
from tests.integration.collector.unknowns.programmes import run_worker, two_stations


def _by_stations(items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {",".join(i["stations"]): i for i in items}


@pytest.mark.timeout(300)
def test_analysts_name_merge_and_reject_unknown_music(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    c = Collector(
        database_url,
        tmp_path,
        extra_env={
            "SODAV_COLLECTOR_WORKER__ENABLED": "true",
            "SODAV_COLLECTOR_WORKER__POLL_INTERVAL_S": "0.2",
        },
    )
    try:
        two_stations(c, tmp_path, song_z=True)
        run_worker(c)
        c.start()
        auth = {"Authorization": f"Bearer {c.add_user('awa', 'analyst')}"}
        api = f"{c.url}/api/v1/unknowns"
        page = httpx.get(api, headers=auth).json()
        assert page["total"] == 3
        airtimes = [i["airtime_s"] for i in page["items"]]
        assert airtimes == sorted(airtimes, reverse=True)  # the costliest first
        found = _by_stations(page["items"])
        x, y = found["radio-a,radio-b"], found["radio-b"]
        z = next(i for i in page["items"] if i["id"] not in (x["id"], y["id"]))
        assert x["first_seen"] and x["last_seen"] and x["lookup"] == "acoustid"
        assert httpx.get(f"{api}/{x['id']}/excerpt", headers=auth).status_code == 404  # no audio asked yet
        assert httpx.post(f"{api}/{x['id']}/accept").status_code == 401
        # nothing to accept before a person or a provider names it
        refused = httpx.post(f"{api}/{x['id']}/accept", headers=auth)
        assert refused.status_code == 422 and "PATCH" in refused.text

        edit = {"title": "Yaay Bóoy", "artist": "Ndèye Fatou Seck", "isrc": "SN-A1B-26-00042"}
        assert httpx.patch(f"{api}/{x['id']}", json=edit, headers=auth).status_code == 200
        accepted = httpx.post(f"{api}/{x['id']}/accept", headers=auth).json()
        assert accepted["decision"] == "accepted" and accepted["decided_by"] == "awa"
        assert accepted["recording"]["source"] == "manual"
        merged = httpx.post(f"{api}/{z['id']}/merge", json={"into": y["id"]}, headers=auth).json()
        assert merged["spans"] == y["spans"] + z["spans"]
        assert sorted(merged["stations"]) == ["radio-a", "radio-b"]
        bad = httpx.post(f"{api}/{y['id']}/reject", json={"reason": "boring"}, headers=auth)
        assert bad.status_code == 422
        rejected = httpx.post(f"{api}/{y['id']}/reject", json={"reason": "not_in_scope"}, headers=auth).json()
        assert rejected["decision_reason"] == "not_in_scope"
        assert httpx.get(api, headers=auth).json()["total"] == 0  # nothing left to decide

        with c.session() as s:
            rec = s.scalars(select(Recording).where(Recording.source == "manual")).one()
            assert (rec.title, rec.artist, rec.isrc) == ("Yaay Bóoy", "Ndèye Fatou Seck", "SNA1B2600042")
            audit = [(e.actor, e.action, e.target) for e in entries(s)]
        assert ("awa", "unknown.accept", f"cluster {x['id']}") in audit
        assert ("awa", "unknown.merge", f"cluster {z['id']}") in audit
        assert ("awa", "unknown.reject", f"cluster {y['id']}") in audit

        # the accepted song's spans are matched again by the running worker: its plays on both stations
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            with c.session() as s:
                stations = set(s.scalars(select(Play.station_id).where(Play.recording_id == rec.id)))
            if len(stations) == 2:
                break
            time.sleep(0.5)
        assert len(stations) == 2

        monkeypatch.setenv("SODAV_COLLECTOR_DATABASE_URL", database_url)
        assert main(["unknowns", "list", "--state", "decided"]) == 0
        out = capsys.readouterr().out
        assert "Yaay Bóoy" in out and "accepted" in out and "rejected" in out
    finally:
        c.stop()
        c.close()
