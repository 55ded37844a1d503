"""Query, path and form values the database cannot hold are a 422 with a stable code, not a 500
(issue #16, items 11 and 12), on PostgreSQL and SQLite, through a real collector.

Every request here is refused and changes nothing: the module's tests share one collector and
one database per backend, with the station and the admin they need (one collector start per
backend instead of one per request).
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.fixtures.collector import Collector


@pytest.fixture(scope="module")
def collector(module_collector: Collector) -> Collector:
    return module_collector


@pytest.fixture(scope="module")
def admin(module_collector: Collector) -> str:
    module_collector.add_station("rfm")
    return module_collector.add_user("root", "admin")


def _get(c: Collector, token: str, path: str, params: dict[str, Any] | None = None) -> httpx.Response:
    return httpx.get(c.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)


BAD_QUERIES = [
    ("/api/v1/plays", {"page": "99999999999999999"}),
    ("/api/v1/plays", {"page": "2147483648", "page_size": "1000"}),
    ("/api/v1/plays", {"page": "9223372036854775808"}),
    ("/api/v1/reports/airtime", {"period": "2026-01", "page": "99999999999999999"}),
    ("/api/v1/catalog/recordings", {"offset": "9223372036854775808"}),
    ("/api/v1/catalog/recordings", {"offset": "2147483648"}),
    ("/api/v1/reports/files/9223372036854775808", None),
    ("/api/v1/reports/files/2147483648", None),
    ("/api/v1/reports/airtime", {"period": "9999"}),
    ("/api/v1/reports/airtime", {"period": "9999-12"}),
    ("/api/v1/reports/airtime", {"period": "9999-S2"}),
    ("/api/v1/reports/activity", {"period": "9999-12-31"}),
    ("/api/v1/reports/playlist", {"station": "rfm", "period": "0001-01-01..9999-12-31"}),
    ("/api/v1/plays", {"from": "0001-01-01T00:00:00+01:00"}),
    ("/api/v1/plays", {"to": "9999-12-31T23:59:59-01:00"}),
    ("/api/v1/plays", {"period": "2026-01\x00"}),
    ("/api/v1/plays", {"artist": "a\x00b"}),
    ("/api/v1/plays", {"station": "rfm\x00"}),
    ("/api/v1/catalog/recordings", {"q": "x\x00"}),
    ("/api/v1/catalog/recordings/SOD%00", None),
    ("/api/v1/reports/files", {"period": "\x00"}),
    ("/api/v1/reports/unidentified", {"period": "2026-01", "min_level_dbfs": "nan"}),
]


@pytest.mark.parametrize(("path", "params"), BAD_QUERIES, ids=lambda v: str(v)[:60])
def test_values_out_of_range_are_422(
    collector: Collector, admin: str, path: str, params: dict[str, Any] | None
) -> None:
    r = _get(collector, admin, path, params)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["error"] == "MALFORMED_PAYLOAD" and r.json()["code"] == 1


BAD_IDS = [
    ("POST", "/api/v1/webhooks/2147483648/ping"),
    ("DELETE", "/api/v1/webhooks/5179741631799629824"),
    ("DELETE", "/api/v1/reports/subscriptions/2147483648"),
    ("GET", "/api/v1/plays/9223372036854775808/evidence"),
    ("POST", "/api/v1/plays/9223372036854775808/excerpt"),
    ("DELETE", "/api/v1/plays/9223372036854775808/flag"),
    ("POST", "/api/v1/unknowns/3457275237134859264/accept"),
    ("GET", "/api/v1/unknowns/2147483648"),
    ("GET", "/api/v1/deliveries?webhook=2147483648"),
]


@pytest.mark.parametrize(("method", "path"), BAD_IDS, ids=lambda v: str(v)[:60])
def test_ids_past_their_column_are_422(collector: Collector, admin: str, method: str, path: str) -> None:
    """An id the database cannot hold (the schema fuzzer found 2**31 on a 32-bit column) is
    refused before any query, whatever the method."""
    r = httpx.request(method, collector.url + path, headers={"Authorization": f"Bearer {admin}"}, timeout=60)
    assert r.status_code == 422, (r.status_code, r.text[:300])
    assert r.json()["details"][0]["loc"][0] in ("path", "query")


def test_ids_past_their_column_in_a_body_are_422(collector: Collector, admin: str) -> None:
    auth = {"Authorization": f"Bearer {admin}"}
    for path, body in (
        ("/api/v1/deliveries/replay", {"ids": [9223372036854775808]}),
        ("/api/v1/deliveries/replay", {"webhook": 2147483648}),
        ("/api/v1/unknowns/1/merge", {"into": 2147483648}),
    ):
        r = httpx.post(collector.url + path, json=body, headers=auth, timeout=60)
        assert r.status_code == 422, (path, r.status_code, r.text[:300])


def test_report_generation_body_with_nul_or_far_period_is_422(collector: Collector, admin: str) -> None:
    for body in ({"period": "9999"}, {"period": "2026-01", "station": "rfm\x00"}, {"period": "2026\x00"}):
        r = httpx.post(
            collector.url + "/api/v1/reports/files",
            json=body,
            headers={"Authorization": f"Bearer {admin}"},
            timeout=60,
        )
        assert r.status_code == 422 and r.json()["code"] == 1, (body, r.text[:300])


def test_enrollment_code_with_nul_is_refused(collector: Collector) -> None:
    r = httpx.post(collector.url + "/api/v1/enroll", json={"code": "sde_\x00"}, timeout=10)
    assert r.status_code in (401, 422) and r.json()["code"] in (1, 10)


def test_catalog_fields_the_database_cannot_hold_are_422(
    collector: Collector, admin: str, tmp_path: Any
) -> None:
    from tests.support.audio import excerpt, track

    mp3 = excerpt(track(1), tmp_path / "a.mp3", 10, 8)
    base = {"external_id": "SOD-1", "title": "T", "artist": "A"}
    for extra in (
        {"title": "x" * 501},
        {"artist": "y" * 501},
        {"isrc": "FRX4521001011"},
        {"year": str(2**31)},
        {"year": str(2**63)},
        {"label": "l" * 301},
        {"title": "a\x00b"},
        {"external_id": "SOD\x00"},
    ):
        with mp3.open("rb") as fh:
            r = httpx.post(
                collector.url + "/api/v1/catalog/recordings",
                data=base | extra,
                files={"file": ("a.mp3", fh, "audio/mpeg")},
                headers={"Authorization": f"Bearer {admin}"},
                timeout=120,
            )
        assert r.status_code == 422 and r.json()["code"] == 1, (extra, r.status_code, r.text[:300])
