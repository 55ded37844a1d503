"""The web app's plays endpoints through a real collector: every station's state with its last
play, a station's day, a play's evidence, and the reviewer's flag, which takes the play out of
every distribution report (and of the monthly rollup) until it is cleared."""

from __future__ import annotations

import base64
import csv
import io
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from collector.db.session import transaction
from collector.fleet.models import AuditEntry
from collector.formats import iso_z
from collector.ingest.models import Event
from collector.plays.models import Play, PlaySegment
from collector.reports import rollup
from collector.reports.models import AirtimeChange
from tests.fixtures.collector import Collector
from tests.support.audio import track
from tests.support.payloads import heartbeat
from tests.support.plays import add_event, add_segments, seed


def _get(c: Collector, token: str, path: str, **params: object) -> httpx.Response:
    return httpx.get(c.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)  # type: ignore[arg-type]


def _send(c: Collector, token: str, method: str, path: str, json: object = None) -> httpx.Response:
    return httpx.request(
        method, c.url + path, json=json, headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def _airtime(c: Collector, token: str, ext: str) -> tuple[int, float]:
    items = _get(c, token, "/api/v1/reports/airtime", period="2026-01", by="recording").json()["items"]
    row = next(i for i in items if i["external_id"] == ext)
    return row["plays"], row["seconds"]


def test_flag_takes_a_play_out_of_reports_until_cleared(collector: Collector) -> None:
    with transaction(collector.tx) as s:
        seed(s)
    analyst = collector.add_user("moussa", "analyst")
    jan = datetime(2026, 1, 15, tzinfo=UTC)
    with collector.session() as s:
        play = s.scalars(
            select(Play).where(Play.status == "final", Play.start >= jan).order_by(Play.start).limit(1)
        ).one()
        play_id, recording_id = play.id, play.recording_id
    page = _get(collector, analyst, "/api/v1/plays", period="2026-01", page_size=1000).json()
    item = next(i for i in page["items"] if i["id"] == play_id)
    assert item["flag"] is None
    ext, station = item["external_id"], item["station"]
    before = _airtime(collector, analyst, ext)
    playlist = _get(
        collector, analyst, "/api/v1/reports/playlist", station=station, period="2026-01", format="json"
    )
    n_playlist = len(playlist.json()["plays"])
    with transaction(collector.tx) as s:  # January's rollup is fresh: the report reads it
        rollup.refresh(s, "2026-01", "Africa/Dakar")
    assert _airtime(collector, analyst, ext) == before

    r = _send(
        collector, analyst, "PUT", f"/api/v1/plays/{play_id}/flag", {"reason": "a jingle sampling the song"}
    )
    assert r.status_code == 200, r.text
    flag = r.json()
    assert (
        flag["reason"] == "a jingle sampling the song" and flag["by"] == "moussa" and flag["at"].endswith("Z")
    )
    with collector.session() as s:  # the trigger logged it: the report sums that recording's plays
        assert recording_id in set(s.scalars(select(AirtimeChange.recording_id)))

    plays, seconds = _airtime(collector, analyst, ext)
    assert plays == before[0] - 1 and abs(seconds - (before[1] - item["duration"])) < 0.01
    with transaction(collector.tx) as s:
        rollup.fold(s, "Africa/Dakar")
    assert _airtime(collector, analyst, ext)[0] == before[0] - 1  # the folded rollup agrees
    playlist = _get(
        collector, analyst, "/api/v1/reports/playlist", station=station, period="2026-01", format="json"
    )
    assert len(playlist.json()["plays"]) == n_playlist - 1

    flagged = _get(collector, analyst, "/api/v1/plays", period="2026-01", flagged="true").json()
    assert [i["id"] for i in flagged["items"]] == [play_id] and flagged["items"][0]["flag"] == flag
    unflagged = _get(collector, analyst, "/api/v1/plays", period="2026-01", flagged="false").json()
    assert unflagged["total"] == page["total"] - 1
    rows = list(
        csv.DictReader(
            io.StringIO(_get(collector, analyst, "/api/v1/plays", period="2026-01", format="csv").text)
        )
    )
    assert [r["id"] for r in rows if r["flagged"] == "yes"] == [str(play_id)]

    evidence = _get(collector, analyst, f"/api/v1/plays/{play_id}/evidence").json()
    assert evidence["flag"] == flag and evidence["play"]["flag"] == flag

    # a play rebuilt under a new id over the same stretch keeps the flag
    with transaction(collector.tx) as s:
        old = s.get(Play, play_id)
        assert old is not None
        fields = {k: getattr(old, k) for k in ("station_id", "recording_id", "start", "end", "duration")}
        s.delete(old)
        s.flush()
        rebuilt = Play(
            **fields,
            offset_start=0.0,
            offset_end=fields["duration"],
            confidence=0.9,
            matched_fraction=0.8,
            status="final",
        )
        s.add(rebuilt)
        s.flush()
        new_id = rebuilt.id
    assert _get(collector, analyst, f"/api/v1/plays/{new_id}/evidence").json()["flag"]["by"] == "moussa"

    assert _send(collector, analyst, "DELETE", f"/api/v1/plays/{new_id}/flag").status_code == 204
    assert _send(collector, analyst, "DELETE", f"/api/v1/plays/{new_id}/flag").status_code == 204
    assert _airtime(collector, analyst, ext) == before
    assert _get(collector, analyst, "/api/v1/plays", period="2026-01", flagged="true").json()["total"] == 0
    assert _send(collector, analyst, "PUT", "/api/v1/plays/999999/flag", {"reason": "x"}).status_code == 404
    assert _send(collector, analyst, "PUT", f"/api/v1/plays/{new_id}/flag", {"reason": ""}).status_code == 422
    with collector.session() as s:
        actions = [(e.actor, e.action) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert actions == [("moussa", "play.flag"), ("moussa", "play.unflag")]


def test_status_timeline_and_evidence(collector: Collector) -> None:
    with transaction(collector.tx) as s:
        out = seed(s)
        day = datetime(2026, 1, 20, tzinfo=UTC)  # Dakar is UTC+0: the local day is the UTC day
        add_segments(s, out, "rfm", day + timedelta(hours=3), 6, "unmatched", -20.0)  # one minute unknown
        add_segments(s, out, "rfm", day + timedelta(hours=4), 3, "unmatched", -70.0)  # silence: not unknown
        add_event(s, out, "rfm", "outage", day + timedelta(hours=5), day + timedelta(hours=5, minutes=2))
        add_event(s, out, "rfm", "silence", day - timedelta(minutes=30), day + timedelta(minutes=10))
        s.add(
            Event(
                agent_id=out.agent_id,
                station_id=out.stations["rfm"],
                kind="metadata",
                seq=900,
                start=day + timedelta(hours=2),
                title="AWA NDIAYE - YEEN",
            )
        )
        s.add(
            Event(
                agent_id=out.agent_id,
                station_id=out.stations["rfm"],
                kind="metadata",
                seq=901,
                start=day + timedelta(hours=6),
                title="PUB",
            )
        )
        play = s.scalars(
            select(Play)
            .where(Play.station_id == out.stations["rfm"], Play.start >= day)
            .order_by(Play.start)
            .limit(1)
        ).one()
        seg_start = play.start
        add_segments(s, out, "rfm", seg_start, 2, "matched", -15.0)
        from collector.ingest.models import Segment

        segs = s.scalars(
            select(Segment)
            .where(Segment.start >= seg_start, Segment.status == "matched")
            .order_by(Segment.start)
        ).all()
        for i, seg in enumerate(segs):
            s.add(PlaySegment(play_id=play.id, segment_id=seg.id, offset=10.0 * i, score=0.8, rate_ppm=0))
        play_id = play.id
    analyst = collector.add_user("moussa", "analyst")

    status = {i["station"]: i for i in _get(collector, analyst, "/api/v1/stations/status").json()}
    assert set(status) == {"rfm", "sud", "zik"}
    assert status["rfm"]["state"] == "never_seen" and status["rfm"]["last_play"]["start"].startswith(
        "2026-02-0"
    )

    t = _get(collector, analyst, "/api/v1/stations/rfm/timeline", date="2026-01-20").json()
    assert (
        t["start"] == "2026-01-20T00:00:00Z"
        and t["end"] == "2026-01-21T00:00:00Z"
        and t["timezone"] == "Africa/Dakar"
    )
    kinds = [(i["kind"], i["start"]) for i in t["items"]]
    assert kinds == sorted(kinds, key=lambda k: k[1])
    assert ("silence", "2026-01-20T00:00:00Z") in kinds  # clipped to the day
    unknown = [i for i in t["items"] if i["kind"] == "unknown"]
    assert unknown == [{"kind": "unknown", "start": "2026-01-20T03:00:00Z", "end": "2026-01-20T03:01:00Z"}]
    outage = next(i for i in t["items"] if i["kind"] == "outage")
    assert outage["start"] == "2026-01-20T05:00:00Z" and outage["end"] == "2026-01-20T05:02:00Z"
    assert any(i["kind"] == "play" and i["play_id"] == play_id for i in t["items"])
    assert [ti["title"] for ti in t["titles"]] == ["AWA NDIAYE - YEEN", "PUB"]
    assert t["titles"][0]["end"] == "2026-01-20T06:00:00Z" and t["titles"][1]["end"] is None
    assert t["monitored_seconds"] == 110.0 and 0 < t["monitored_share"] < 1
    assert _get(collector, analyst, "/api/v1/stations/nope/timeline", date="2026-01-20").status_code == 404
    assert _get(collector, analyst, "/api/v1/stations/rfm/timeline", date="20/01/2026").status_code == 422

    ev = _get(collector, analyst, f"/api/v1/plays/{play_id}/evidence").json()
    assert ev["play"]["id"] == play_id and ev["agent"] == "agent-1" and ev["flag"] is None
    assert [s["offset"] for s in ev["segments"]] == [0.0, 10.0] and ev["segments"][0]["score"] == 0.8
    assert ev["excerpt"]["state"] == "unavailable"  # a play of January: no agent holds its audio
    assert ev["recording_duration"] >= 200.0
    assert _get(collector, analyst, "/api/v1/plays/999999/evidence").status_code == 404


def test_a_plays_excerpt_asked_of_its_agent(collector: Collector, tmp_path: Path) -> None:
    """An analyst asks for a play's audio; the request rides on the agent's next ack; the agent's
    answer (gone, then the audio) is what the evidence and the excerpt endpoint show."""
    with transaction(collector.tx) as s:
        seed(s)
        old = s.scalars(select(Play).order_by(Play.id)).first()
        assert old is not None
        old_id = old.id
        # a play of the last hour: the agents keep 48 h of audio
        play = s.scalars(select(Play).where(Play.id != old_id).order_by(Play.id)).first()
        assert play is not None
        play.start, play.end = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1), play.end
        play.end = play.start + timedelta(seconds=play.duration)
        play_id, play_start = play.id, play.start
    analyst = collector.add_user("moussa", "analyst")
    box = collector.add_agent("box", ["rfm", "zik"])
    path = f"/api/v1/plays/{play_id}/excerpt"
    too_old = _send(collector, analyst, "POST", f"/api/v1/plays/{old_id}/excerpt").json()
    assert too_old["state"] == "unavailable" and "older than the audio agents keep" in too_old["reason"]

    assert _get(collector, analyst, path).json()["message"].endswith(f"POST /api/v1/plays/{play_id}/excerpt")
    asked = _send(collector, analyst, "POST", path)
    assert asked.status_code == 202 and asked.json()["state"] == "requested"
    assert _send(collector, analyst, "POST", path).json() == asked.json()  # asked once, not twice
    waiting = _get(collector, analyst, path)
    assert waiting.status_code == 404 and "next upload or heartbeat" in waiting.json()["message"]
    ack = _send(collector, box, "POST", "/api/v1/heartbeats", heartbeat("box")).json()
    [request] = ack["excerpts"]
    assert request["start"] == iso_z(play_start) and request["station"] in ("rfm", "zik")

    gone = {"agent": "box", "request": request["id"], "station": request["station"], "gone": "expired"}
    assert _send(collector, box, "POST", "/api/v1/excerpts", gone).status_code == 200
    ev = _get(collector, analyst, f"/api/v1/plays/{play_id}/evidence").json()
    assert ev["excerpt"]["state"] == "unavailable" and "48 h" in ev["excerpt"]["reason"]
    assert "no longer holds" in _get(collector, analyst, path).json()["message"]

    # asked again (another agent may hold it now): this time the audio comes
    assert _send(collector, analyst, "POST", path).json()["state"] == "requested"
    [request] = _send(collector, box, "POST", "/api/v1/heartbeats", heartbeat("box")).json()["excerpts"]
    ogg = tmp_path / "x.ogg"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-t", "5", "-i", str(track(1)), "-c:a", "libopus", str(ogg)], check=True
    )
    audio = {
        **gone,
        "request": request["id"],
        "gone": None,
        "start": request["start"],
        "end": request["end"],
        "audio": base64.b64encode(ogg.read_bytes()).decode(),
    }
    assert _send(collector, box, "POST", "/api/v1/excerpts", audio).status_code == 200
    got = _get(collector, analyst, path)
    assert got.status_code == 200 and got.headers["content-type"] == "audio/ogg"
    assert got.content == ogg.read_bytes()
    assert (
        _get(collector, analyst, f"/api/v1/plays/{play_id}/evidence").json()["excerpt"]["state"]
        == "available"
    )
    with transaction(collector.tx) as s:
        assert (
            s.scalars(select(AuditEntry.action).where(AuditEntry.action == "play.excerpt")).all()
            == ["play.excerpt"] * 2
        )
