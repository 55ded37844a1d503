"""What an analyst types and downloads, through a real collector on PostgreSQL and SQLite.

Searches ignore accents and case both ways ("lo" finds "Lô", "ÉTOILES" finds "Les Étoiles",
"ŋoor" finds "Ŋoor"), the same on both databases (folded search columns, migration 0007), in
the plays list and the catalog. French and English downloads of one report get their own
file names.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from sqlalchemy import create_engine

from collector.catalog.models import Recording
from collector.db.migrate import alembic_config, upgrade
from collector.db.session import transaction
from tests.fixtures.collector import Collector
from tests.support.plays import Seeded, add_play, fake_fingerprint, seed

JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def _get(c: Collector, token: str, path: str, **params: object) -> httpx.Response:
    r = httpx.get(c.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)  # type: ignore[arg-type]
    assert r.status_code == 200, r.text
    return r


def _with_lo(collector: Collector) -> Seeded:
    with transaction(collector.tx) as s:
        seeded = seed(s)
        rec = Recording(
            external_id="SOD-0005",
            title="Tajabone",
            artist="Ismaël Lô",
            label="Studio Xippi",
            duration=240.0,
            fingerprint=fake_fingerprint(5),
            fingerprint_sha256=hashlib.sha256(b"SOD-0005").hexdigest(),
        )
        s.add(rec)
        s.flush()
        seeded.recordings["SOD-0005"] = rec.id
        add_play(s, seeded, "sud", "SOD-0005", datetime(2026, 1, 12, 9, tzinfo=UTC), 180.0, "final")
    return seeded


def test_artist_and_title_search_ignore_accents_and_case_both_ways(collector: Collector) -> None:
    seeded = _with_lo(collector)
    analyst = collector.add_user("ana", "analyst")
    in_jan = [p for p in seeded.plays if JAN[0] <= p[2] < JAN[1]]

    def plays(**params: str) -> set[str]:
        items = _get(collector, analyst, "/api/v1/plays", period="2026-01", page_size=1000, **params).json()
        return {i["external_id"] for i in items["items"]}

    etoiles = {"SOD-0002", "SOD-0003"}
    assert {p[1] for p in in_jan} >= etoiles | {"SOD-0005"}
    for words in ("lo", "LÔ", "ismael lo", "ISMAËL"):
        assert plays(artist=words) == {"SOD-0005"}, words
    for words in ("etoiles", "ÉTOILES", "les étoi", "LES ETOILES"):
        assert plays(artist=words) == etoiles, words
    assert plays(title="yeen noo dekk") == plays(title="YÉEN ÑOO") == {"SOD-0001"}
    assert plays(title="ŋoor") == plays(title="ŊOOR") == {"SOD-0004"}
    assert plays(title="tajabone", artist="lô") == {"SOD-0005"}
    assert plays(label="xippi") == {"SOD-0001", "SOD-0005"}
    assert plays(artist="50%") == set()  # a wildcard is a character, not a pattern

    def catalog(q: str) -> set[str]:
        items = _get(collector, analyst, "/api/v1/catalog/recordings", q=q).json()["items"]
        return {i["external_id"] for i in items}

    assert catalog("lo") == {"SOD-0005"} and catalog("ISMAËL LÔ") == {"SOD-0005"}
    assert catalog("etoiles") == catalog("ÉTOILES") == etoiles
    assert catalog("SNA012600001") == {"SOD-0001"}


def test_french_and_english_downloads_have_their_own_names(collector: Collector) -> None:
    with transaction(collector.tx) as s:
        seed(s)
    analyst = collector.add_user("ana", "analyst")
    names = {}
    for path, params in (
        ("/api/v1/reports/playlist", {"station": "zik", "period": "2026-01", "format": "pdf"}),
        ("/api/v1/reports/playlist", {"station": "zik", "period": "2026-01", "format": "xlsx"}),
        ("/api/v1/reports/airtime", {"period": "2026-01", "by": "all", "format": "xlsx"}),
        ("/api/v1/reports/activity", {"period": "2026-01", "format": "xlsx"}),
        ("/api/v1/plays", {"period": "2026-01", "format": "xlsx"}),
    ):
        for lang in ("fr", "en"):
            r = _get(collector, analyst, path, lang=lang, **params)
            names[(path, params["format"], lang)] = r.headers["content-disposition"]
    assert (
        names[("/api/v1/reports/playlist", "pdf", "fr")] == 'attachment; filename="playlist-zik-2026-01.pdf"'
    )
    assert (
        names[("/api/v1/reports/playlist", "pdf", "en")]
        == 'attachment; filename="playlist-zik-2026-01-en.pdf"'
    )
    assert names[("/api/v1/plays", "xlsx", "en")] == 'attachment; filename="plays-en.xlsx"'
    for path, fmt, _lang in names:
        assert names[(path, fmt, "fr")] != names[(path, fmt, "en")], path


def test_a_catalog_imported_before_the_search_columns_is_searchable(database_url: str) -> None:
    """Migration 0007 folds the titles, artists and labels of the recordings already there."""
    from alembic import command

    command.downgrade(alembic_config(database_url), "0006")  # the revision before 0007: a catalog already
    engine = create_engine(database_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO recordings (external_id, title, artist, label, duration, fingerprint, "
                "fingerprint_sha256, created_at, updated_at) "
                "VALUES ('SOD-0009', 'Lëndëm', 'Ismaël Lô', NULL, 200, :fp, 'x', :t, :t)"
            ),
            {"fp": fake_fingerprint(9), "t": datetime(2026, 1, 1)},
        )
    upgrade(database_url)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT title_search, artist_search, label_search FROM recordings")).one()
    engine.dispose()
    assert tuple(row) == ("lendem", "ismael lo", None)
