"""Fleet administration over HTTP, through a real collector: what `sodav-collector stations|agents|
users` does, with the same checks, refused to analysts, and recorded in the audit log like the CLI."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
from sqlalchemy import select

from collector.fleet.models import AuditEntry
from tests.fixtures.collector import Collector


def _api(c: Collector, token: str | None, method: str, path: str, json: object = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.request(method, c.url + path, json=json, headers=headers, timeout=30)


def _audit(c: Collector) -> list[tuple[str, str, str]]:
    with c.session() as s:
        return [(e.actor, e.action, e.target) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_admin_manages_the_fleet_and_every_action_is_audited(collector: Collector) -> None:
    admin = collector.add_user("awa", "admin")
    analyst = collector.add_user("moussa", "analyst")

    me = _api(collector, admin, "GET", "/api/v1/users/me").json()
    assert (
        me["name"] == "awa" and me["role"] == "admin" and me["timezone"] == "Africa/Dakar" and me["version"]
    )
    assert _api(collector, analyst, "GET", "/api/v1/users/me").json()["role"] == "analyst"

    # stations
    r = _api(
        collector, admin, "POST", "/api/v1/stations", {"slug": "zik-fm", "name": "Zik FM", "city": "Dakar"}
    )
    assert r.status_code == 201, r.text
    assert r.json()["rate_source"] is None and len(r.json()["variants_ppm"]) == 9
    r = _api(collector, admin, "POST", "/api/v1/stations", {"slug": "zik-fm"})
    assert (
        r.status_code == 409 and r.json()["error"] == "CONFLICT" and "already exists" in r.json()["message"]
    )
    assert _api(collector, admin, "POST", "/api/v1/stations", {"slug": "Bad Slug"}).status_code == 422
    r = _api(collector, admin, "PUT", "/api/v1/stations/zik-fm/rate", {"rate_ppm": -25000})
    assert r.json()["rate_ppm"] == -25000 and r.json()["rate_source"] == "admin"
    assert -25000 in r.json()["variants_ppm"]
    assert (
        _api(collector, admin, "PUT", "/api/v1/stations/zik-fm/rate", {"rate_ppm": 2500}).status_code == 422
    )
    assert _api(collector, admin, "PUT", "/api/v1/stations/nope/rate", {"rate_ppm": None}).status_code == 404
    items = _api(collector, admin, "GET", "/api/v1/stations").json()["items"]
    assert [(i["slug"], i["rate_source"]) for i in items] == [("zik-fm", "admin")]

    # agents: the code shown once enrolls the agent, as the CLI's does
    r = _api(collector, admin, "POST", "/api/v1/agents", {"name": "thies-01", "stations": ["zik-fm"]})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["enrollment_code"].startswith("sde_") and body["agent"]["enrollment_expires_at"]
    assert body["agent"]["active_tokens"] == 0
    enrolled = httpx.post(
        collector.url + "/api/v1/enroll", json={"code": body["enrollment_code"]}, timeout=10
    )
    assert enrolled.status_code == 200 and enrolled.json()["stations"] == ["zik-fm"]
    r = _api(collector, admin, "POST", "/api/v1/agents", {"name": "x", "stations": ["nowhere"]})
    assert r.status_code == 404 and "nowhere" in r.json()["message"]
    assert (
        _api(
            collector, admin, "POST", "/api/v1/agents", {"name": "thies-01", "stations": ["zik-fm"]}
        ).status_code
        == 409
    )
    agent = _api(collector, admin, "GET", "/api/v1/agents").json()["items"][0]
    assert agent["active_tokens"] == 1 and agent["enrollment_expires_at"] is None
    code = _api(collector, admin, "POST", "/api/v1/agents/thies-01/enrollment-codes")
    assert code.status_code == 201 and code.json()["enrollment_code"].startswith("sde_")
    assert _api(collector, admin, "DELETE", "/api/v1/agents/thies-01/tokens").json() == {"revoked": 1}
    agent_token = enrolled.json()["token"]
    assert _api(collector, agent_token, "GET", "/api/v1/agents/me").json()["error"] == "REVOKED_TOKEN"

    # users
    r = _api(collector, admin, "POST", "/api/v1/users", {"name": "fatou", "role": "analyst"})
    assert (
        r.status_code == 201
        and r.json()["token"].startswith("sdu_")
        and r.json()["user"]["active_tokens"] == 1
    )
    assert _api(collector, r.json()["token"], "GET", "/api/v1/users/me").json()["name"] == "fatou"
    assert (
        _api(collector, admin, "POST", "/api/v1/users", {"name": "me", "role": "analyst"}).status_code == 422
    )
    assert _api(collector, admin, "POST", "/api/v1/users", {"name": "x", "role": "boss"}).status_code == 422
    assert (
        _api(collector, admin, "POST", "/api/v1/users", {"name": "fatou", "role": "admin"}).status_code == 409
    )
    r = _api(collector, admin, "PATCH", "/api/v1/users/awa", {"role": "analyst"})
    assert r.status_code == 409 and "last admin" in r.json()["message"]
    assert _api(collector, admin, "PATCH", "/api/v1/users/fatou", {"role": "admin"}).json()["role"] == "admin"
    new = _api(collector, admin, "POST", "/api/v1/users/moussa/tokens", {"revoke_others": True})
    assert new.status_code == 201
    assert _api(collector, analyst, "GET", "/api/v1/users/me").json()["error"] == "REVOKED_TOKEN"
    assert _api(collector, admin, "DELETE", "/api/v1/users/awa/tokens").status_code == 409
    assert _api(collector, admin, "DELETE", "/api/v1/users/moussa/tokens").json() == {"revoked": 1}
    assert _api(collector, admin, "DELETE", "/api/v1/users/ghost/tokens").status_code == 404
    users = {u["name"]: u for u in _api(collector, admin, "GET", "/api/v1/users").json()["items"]}
    assert users["moussa"]["active_tokens"] == 0 and users["fatou"]["role"] == "admin"

    # the CLI has the same checks and leaves the same trace
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        env = dict(os.environ, SODAV_COLLECTOR_DATABASE_URL=collector.database_url)
        return subprocess.run(
            [sys.executable, "-m", "collector.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert cli("stations", "add", "sud-fm").returncode == 0
    refused = cli("stations", "add", "sud-fm")
    assert refused.returncode == 2 and "already exists" in refused.stderr
    assert "pinned at +1.5%" in cli("stations", "rate", "sud-fm", "--percent", "1.5").stdout
    assert _api(collector, admin, "GET", "/api/v1/stations").json()["items"][0]["rate_ppm"] == 15000
    assert cli("users", "role", "fatou", "--role", "analyst").returncode == 0
    last = cli("users", "role", "awa", "--role", "analyst")
    assert last.returncode == 2 and "last admin" in last.stderr
    log = cli("audit", "--target", "sud-fm").stdout.splitlines()
    assert log[0].split() == ["WHEN", "(UTC)", "WHO", "ACTION", "TARGET", "DETAIL"]
    assert [line.split()[2] for line in log[1:]] == ["station.rate", "station.create"]
    audit = _audit(collector)
    assert ("awa", "station.create", "zik-fm") in audit
    assert ("awa", "station.rate", "zik-fm") in audit
    assert ("awa", "agent.create", "thies-01") in audit
    assert ("awa", "agent.revoke", "thies-01") in audit
    assert ("awa", "user.role", "fatou") in audit
    assert ("awa", "user.revoke", "moussa") in audit
    assert any(a[0].startswith("cli:") and a[1:] == ("station.create", "sud-fm") for a in audit)
    assert any(a[0].startswith("cli:") and a[1:] == ("user.role", "fatou") for a in audit)
    assert not any("sde_" in str(a) or "sdu_" in str(a) for a in audit)


def test_analysts_and_agents_cannot_administer(collector: Collector) -> None:
    collector.add_station("rfm")
    analyst = collector.add_user("moussa", "analyst")
    agent = collector.add_agent("box", ["rfm"])
    calls = [
        ("GET", "/api/v1/stations", None),
        ("POST", "/api/v1/stations", {"slug": "x"}),
        ("PUT", "/api/v1/stations/rfm/rate", {"rate_ppm": 0}),
        ("GET", "/api/v1/agents", None),
        ("POST", "/api/v1/agents", {"name": "y", "stations": ["rfm"]}),
        ("POST", "/api/v1/agents/box/enrollment-codes", None),
        ("DELETE", "/api/v1/agents/box/tokens", None),
        ("GET", "/api/v1/users", None),
        ("POST", "/api/v1/users", {"name": "z", "role": "admin"}),
        ("PATCH", "/api/v1/users/moussa", {"role": "admin"}),
        ("POST", "/api/v1/users/moussa/tokens", {}),
        ("DELETE", "/api/v1/users/moussa/tokens", None),
    ]
    for method, path, body in calls:
        for token in (analyst, agent):
            r = _api(collector, token, method, path, body)
            assert r.status_code == 403 and r.json()["error"] == "FORBIDDEN_ROLE", (method, path, r.text)
        assert _api(collector, None, method, path, body).json()["error"] == "MISSING_TOKEN"
    assert _api(collector, agent, "GET", "/api/v1/users/me").status_code == 403
    assert _audit(collector) == []


def test_openapi_declares_bearer_and_docs_use_local_assets(collector: Collector) -> None:
    spec = httpx.get(collector.url + "/openapi.json", timeout=10).json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"]["type"] == "http" and schemes["HTTPBearer"]["scheme"] == "bearer"
    assert {"HTTPBearer": []} in spec["paths"]["/api/v1/users"]["get"]["security"]
    for path in ("/docs", "/redoc"):
        page = httpx.get(collector.url + path, timeout=10).text
        assert "cdn" not in page.lower() and "fonts.googleapis" not in page
        for src in (
            ("/api-docs/swagger-ui-bundle.js",) if path == "/docs" else ("/api-docs/redoc.standalone.js",)
        ):
            assert src in page
            asset = httpx.get(collector.url + src, timeout=10)
            assert asset.status_code == 200 and len(asset.content) > 100_000


def test_the_app_at_root_and_unknown_paths(collector: Collector) -> None:
    index = httpx.get(collector.url + "/", timeout=10)
    assert index.status_code == 200 and index.headers["cache-control"] == "no-cache"
    assert '<div id="root">' in index.text
    deep = httpx.get(collector.url + "/stations/rfm-dakar", timeout=10)  # the app's own address reloads
    assert deep.status_code == 200 and deep.text == index.text
    asset = next(part.split('"')[0] for part in index.text.split('src="')[1:] if part.startswith("/assets/"))
    r = httpx.get(collector.url + asset, timeout=10)
    assert r.status_code == 200 and "immutable" in r.headers["cache-control"]
    assert httpx.get(collector.url + "/assets/nope.js", timeout=10).status_code == 404
    for method in ("GET", "POST", "DELETE"):
        r = httpx.request(method, collector.url + "/api/v1/nope", timeout=10)
        assert r.status_code == 404 and r.json()["error"] == "NOT_FOUND", (method, r.text)
    # nothing outside web_dist: a path that climbs out is the app's index, or a 404 under /assets
    assert httpx.get(collector.url + "/..%2F..%2Fsettings.py", timeout=10).text == index.text
    assert httpx.get(collector.url + "/assets/..%2F..%2F..%2Fsettings.py", timeout=10).status_code == 404
