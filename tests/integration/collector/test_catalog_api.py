"""Catalog admin API against a real collector, on PostgreSQL and SQLite."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import func, select

from collector.catalog.models import Recording
from shared.codec import decode
from tests.fixtures.collector import Collector
from tests.support.audio import excerpt, track


def _put(c: Collector, token: str, audio: Path, **fields: str) -> httpx.Response:
    with audio.open("rb") as fh:
        return httpx.post(
            c.url + "/api/v1/catalog/recordings",
            headers={"Authorization": f"Bearer {token}"},
            data=fields,
            files={"file": (audio.name, fh, "audio/mpeg")},
            timeout=60,
        )


def _count(c: Collector) -> int:
    with c.session() as s:
        return int(s.scalar(select(func.count()).select_from(Recording)) or 0)


def test_admin_adds_a_recording_and_analyst_finds_it(collector: Collector, tmp_path: Path) -> None:
    admin = collector.add_user("root", "admin")
    analyst = collector.add_user("ana", "analyst")
    audio = excerpt(track(2), tmp_path / "song.mp3", 0, 30)
    fields = {"external_id": "SODAV-1", "title": "Ndaga", "artist": "Orchestra", "isrc": "sn-a01-26-00001"}

    first = _put(collector, admin, audio, **fields)
    assert first.status_code == 200, first.text
    assert first.json()["outcome"] == "added"
    assert first.json()["recording"]["isrc"] == "SNA012600001"
    assert abs(first.json()["recording"]["duration"] - 30) < 0.5
    assert _put(collector, admin, audio, **fields).json()["outcome"] == "unchanged"
    renamed = _put(collector, admin, audio, **(fields | {"title": "Ndaga (live)"}))
    assert renamed.json()["outcome"] == "updated"
    assert _count(collector) == 1
    with collector.session() as s:
        rec = s.scalars(select(Recording)).one()
        # a full fingerprint: ~8 values per second of audio
        assert len(decode(rec.fingerprint).values) > 200

    auth = {"Authorization": f"Bearer {analyst}"}
    found = httpx.get(collector.url + "/api/v1/catalog/recordings", params={"q": "ndaga"}, headers=auth)
    assert found.status_code == 200
    assert [r["external_id"] for r in found.json()["items"]] == ["SODAV-1"]
    one = httpx.get(collector.url + "/api/v1/catalog/recordings/SODAV-1", headers=auth)
    assert one.json()["title"] == "Ndaga (live)"
    missing = httpx.get(collector.url + "/api/v1/catalog/recordings/NOPE", headers=auth)
    assert missing.status_code == 404 and missing.json()["error"] == "NOT_FOUND"


def test_bad_uploads_are_refused_and_store_nothing(collector: Collector, tmp_path: Path) -> None:
    admin = collector.add_user("root", "admin")
    analyst = collector.add_user("ana", "analyst")
    audio = excerpt(track(2), tmp_path / "song.mp3", 0, 20)
    fields = {"external_id": "SODAV-2", "title": "T", "artist": "A"}

    refused = _put(collector, analyst, audio, **fields)
    assert refused.status_code == 403 and refused.json()["error"] == "FORBIDDEN_ROLE"
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(b"this is not audio" * 1000)
    bad = _put(collector, admin, garbage, **fields)
    assert bad.status_code == 422 and "cannot read the audio" in bad.json()["message"]
    no_title = _put(collector, admin, audio, external_id="SODAV-3", artist="A")
    assert no_title.status_code == 422 and no_title.json()["error"] == "MALFORMED_PAYLOAD"
    bad_year = _put(collector, admin, audio, **(fields | {"year": "last year"}))
    assert bad_year.status_code == 422
    assert _count(collector) == 0
