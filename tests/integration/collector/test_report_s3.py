"""Report files on S3-compatible object storage: a real S3 server (moto in server mode) behind
the collector configured as the guide says; files are generated into the bucket and downloaded
from it, and a storage that is away is a clear error, never a lost file."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import httpx
import pytest

from collector.db.session import transaction
from collector.reports.s3 import S3Storage, S3Unavailable
from collector.reports.storage import StorageError
from collector.settings import load
from tests.fixtures.collector import Collector
from tests.fixtures.s3 import ACCESS_KEY, SECRET_KEY, S3Server
from tests.support.docblocks import example
from tests.support.plays import seed

BUCKET = "sodav-reports"


def _config(tmp_path: Path, s3: S3Server) -> Path:
    """The guide's example, pointed at the test's server, with its key files."""
    for name, value in (("s3-access", ACCESS_KEY), ("s3-secret", SECRET_KEY)):
        path = tmp_path / name
        path.write_text(value)
        os.chmod(path, 0o600)
    text = example("ops/collector", "report-s3")
    text = text.replace("https://s3.example.org", s3.url)
    text = text.replace("/etc/sodav-collector/s3-access", str(tmp_path / "s3-access"))
    text = text.replace("/etc/sodav-collector/s3-secret", str(tmp_path / "s3-secret"))
    config = tmp_path / "collector.toml"
    config.write_text(text)
    return config


def test_storage_writes_reads_and_says_what_is_missing(s3_server: S3Server, tmp_path: Path) -> None:
    s3_server.client().create_bucket(Bucket=BUCKET)
    settings = load(_config(tmp_path, s3_server), environ={})
    storage = S3Storage(settings)
    assert not storage.exists("2026-01/airtime-all-2026-01.xlsx")
    storage.write("2026-01/airtime-all-2026-01.xlsx", b"first")
    storage.write("2026-01/airtime-all-2026-01.xlsx", b"second")  # replaced whole
    assert storage.read("2026-01/airtime-all-2026-01.xlsx") == b"second"
    assert storage.exists("2026-01/airtime-all-2026-01.xlsx")
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=BUCKET)["Contents"]]
    assert keys == ["reports/2026-01/airtime-all-2026-01.xlsx"]  # under the configured prefix
    assert storage.local_path("2026-01/airtime-all-2026-01.xlsx") is None
    with pytest.raises(
        StorageError, match=re.escape("missing from s3://sodav-reports/reports/2026-02/x.xlsx")
    ):
        storage.read("2026-02/x.xlsx")
    with pytest.raises(StorageError, match="invalid report name"):
        storage.write("../escape.xlsx", b"x")
    s3_server.stop()
    with pytest.raises(S3Unavailable, match=re.escape("cannot read s3://sodav-reports/reports/2026-01/")):
        storage.read("2026-01/airtime-all-2026-01.xlsx")


def test_collector_generates_into_the_bucket_and_serves_from_it(
    database_url: str, tmp_path: Path, s3_server: S3Server
) -> None:
    s3_server.client().create_bucket(Bucket=BUCKET)
    c = Collector(
        database_url, tmp_path, extra_env={"SODAV_COLLECTOR_CONFIG": str(_config(tmp_path, s3_server))}
    )
    c.start()
    try:
        with transaction(c.tx) as s:
            seed(s)
        analyst = {"Authorization": f"Bearer {c.add_user('ana', 'analyst')}"}
        r = httpx.post(
            c.url + "/api/v1/reports/files",
            json={"period": "2026-01", "station": "rfm"},
            headers=analyst,
            timeout=120,
        )
        assert r.status_code == 200, r.text
        made = r.json()["files"]
        bucket = s3_server.client()
        for f in made:
            stored = bucket.get_object(Bucket=BUCKET, Key="reports/" + f["name"])["Body"].read()
            assert hashlib.sha256(stored).hexdigest() == f["sha256"]
            got = httpx.get(f"{c.url}/api/v1/reports/files/{f['id']}", headers=analyst, timeout=60)
            assert got.status_code == 200 and got.content == stored
        assert not (tmp_path / "reports").exists()  # nothing went to the directory backend

        s3_server.stop()  # the storage goes away: a clear answer, and the record stays
        got = httpx.get(f"{c.url}/api/v1/reports/files/{made[0]['id']}", headers=analyst, timeout=60)
        assert got.status_code == 503
        assert "cannot read s3://sodav-reports/reports/2026-01/" in got.json()["message"]
        s3_server.start()  # in-memory moto comes back empty: the file is missing, say so
        s3_server.client().create_bucket(Bucket=BUCKET)
        got = httpx.get(f"{c.url}/api/v1/reports/files/{made[0]['id']}", headers=analyst, timeout=60)
        assert got.status_code == 404 and "regenerate it" in got.json()["message"]
    finally:
        c.close()
