"""The reports API through a real collector process, with analyst, agent and missing tokens."""

from __future__ import annotations

import csv
import hashlib
import io
import subprocess
from datetime import UTC, datetime

import httpx
import openpyxl

from collector.db.session import transaction
from tests.fixtures.collector import Collector
from tests.support.plays import RECORDINGS, seed

JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def _get(c: Collector, token: str | None, path: str, **params: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(c.url + path, params=params, headers=headers, timeout=60)  # type: ignore[arg-type]


def test_reports_api_for_analysts_only(collector: Collector) -> None:
    with transaction(collector.tx) as s:
        seeded = seed(s)
    analyst = collector.add_user("ana", "analyst")
    agent = collector.add_agent("edge-1", ["rfm"])
    in_jan = [p for p in seeded.plays if JAN[0] <= p[2] < JAN[1]]

    for path in ("/api/v1/plays", "/api/v1/reports/airtime?period=2026-01", "/api/v1/reports/files"):
        assert _get(collector, None, path).status_code == 401
        r = _get(collector, agent, path)
        assert r.status_code == 403 and r.json()["error"] == "FORBIDDEN_ROLE"

    # plays: every January play on rfm, open ones flagged, in pages
    rfm = sorted((p for p in in_jan if p[0] == "rfm"), key=lambda p: p[2])
    got: list[dict[str, object]] = []
    page = 1
    while True:
        r = _get(
            collector, analyst, "/api/v1/plays", station="rfm", period="2026-01", page=page, page_size=50
        )
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == len(rfm) and body["timezone"] == "Africa/Dakar"
        got += body["items"]
        if len(body["items"]) < 50:
            break
        page += 1
    assert [(i["station"], i["external_id"], i["status"], i["final"]) for i in got] == [
        ("rfm", p[1], p[5], p[5] == "final") for p in rfm
    ]
    assert got[0]["start"] == "2026-01-01T00:00:00+00:00" and got[0]["start_utc"] == "2026-01-01T00:00:00Z"

    final_only = _get(collector, analyst, "/api/v1/plays", period="2026-01", status="final").json()["total"]
    assert final_only == sum(1 for p in in_jan if p[5] == "final")
    by_artist = _get(collector, analyst, "/api/v1/plays", period="2026-01", artist="LES É").json()["total"]
    assert by_artist == sum(1 for p in in_jan if p[1] in ("SOD-0002", "SOD-0003"))
    by_isrc = _get(collector, analyst, "/api/v1/plays", period="2026-01", recording="SNA012600001").json()
    assert by_isrc["total"] == sum(1 for p in in_jan if p[1] == "SOD-0001")
    no_label = _get(collector, analyst, "/api/v1/plays", period="2026-01", label="teranga").json()["total"]
    assert no_label == by_artist

    r = _get(collector, analyst, "/api/v1/plays", station="rfm", period="2026-01", format="csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["external_id"] for row in rows] == [p[1] for p in rfm]
    assert rows[0]["date"] == "2026-01-01" and rows[0]["start"] == "00:00:00"

    r = _get(collector, analyst, "/api/v1/plays", station="sud", period="2026-01", format="xlsx", lang="en")
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    values = list(ws.iter_rows(values_only=True))
    assert any("Africa/Dakar" in str(v[0]) for v in values[:5])
    assert sum(1 for v in values if v[1] == "sud") == sum(1 for p in in_jan if p[0] == "sud")

    # errors say what to do
    r = _get(collector, analyst, "/api/v1/plays", station="nowhere")
    assert r.status_code == 404 and "nowhere" in r.json()["message"]
    r = _get(collector, analyst, "/api/v1/reports/airtime", period="January")
    assert r.status_code == 422 and "2026-01" in r.json()["message"]

    # airtime JSON agrees with a recount
    items = _get(collector, analyst, "/api/v1/reports/airtime", period="2026-01").json()["items"]
    finals = [p for p in in_jan if p[5] == "final"]
    assert {i["external_id"]: i["plays"] for i in items} == {
        ext: sum(1 for p in finals if p[1] == ext) for ext, *_ in RECORDINGS
    }
    r = _get(collector, analyst, "/api/v1/reports/airtime", period="2026-01", by="all", format="xlsx")
    assert openpyxl.load_workbook(io.BytesIO(r.content)).sheetnames == [
        "Par enregistrement",
        "Par artiste",
        "Par label",
        "Par station",
        "Par enregistrement et station",
    ]
    act = _get(collector, analyst, "/api/v1/reports/activity", period="2026-01").json()
    assert [s["station"] for s in act["stations"]] == ["rfm", "sud", "zik"]
    unid = _get(collector, analyst, "/api/v1/reports/unidentified", period="2026-01", format="json").json()
    assert unid["stations"] == [] and unid["min_level_dbfs"] == -50.0

    # the playlist as PDF, in English
    r = _get(
        collector,
        analyst,
        "/api/v1/reports/playlist",
        station="zik",
        period="2026-01",
        format="pdf",
        lang="en",
    )
    assert r.headers["content-type"] == "application/pdf"
    text = subprocess.run(
        ["pdftotext", "-", "-"], input=r.content, capture_output=True, check=True
    ).stdout.decode()
    assert "Broadcast playlist — Radio ZIK — 2026-01" in text and "Africa/Dakar" in text

    # generated files: regenerate, list, download; again gives identical bytes
    r = httpx.post(
        collector.url + "/api/v1/reports/files",
        json={"period": "2026-01", "station": "rfm"},
        headers={"Authorization": f"Bearer {analyst}"},
        timeout=120,
    )
    assert r.status_code == 200, r.text
    made = r.json()["files"]
    assert [(f["report"], f["scope"], f["format"], f["changed"]) for f in made] == [
        ("playlist", "rfm", "xlsx", True),
        ("playlist", "rfm", "pdf", True),
    ]
    listed = _get(collector, analyst, "/api/v1/reports/files", period="2026-01").json()["files"]
    assert {f["id"] for f in listed} == {f["id"] for f in made}
    for f in made:
        r = _get(collector, analyst, f"/api/v1/reports/files/{f['id']}")
        assert r.status_code == 200 and hashlib.sha256(r.content).hexdigest() == f["sha256"]
        assert f["name"].rsplit("/", 1)[1] in r.headers["content-disposition"]
    again = httpx.post(
        collector.url + "/api/v1/reports/files",
        json={"period": "2026-01", "station": "rfm"},
        headers={"Authorization": f"Bearer {analyst}"},
        timeout=120,
    ).json()["files"]
    assert [(f["sha256"], f["changed"]) for f in again] == [(f["sha256"], False) for f in made]
    assert _get(collector, analyst, "/api/v1/reports/files/9999").status_code == 404
    r = httpx.post(
        collector.url + "/api/v1/reports/files",
        json={"period": "2026-01"},
        headers={"Authorization": f"Bearer {agent}"},
    )
    assert r.status_code == 403
