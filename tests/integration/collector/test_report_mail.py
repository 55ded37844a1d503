"""Report subscriptions by e-mail, against a real SMTP server (aiosmtpd: STARTTLS required, login
after TLS, a certificate from a throwaway authority). The worker's scheduled generation writes
the files and the outbox rows together; the delivery cycle mails each subscriber their file,
in their language. ``sodav-collector mail test`` checks the settings the guide shows.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from collector.db.engine import make_engine, make_sessionmaker
from collector.db.session import transaction
from collector.fleet import service as fleet
from collector.notify import events, service
from collector.notify.delivery import Deliverer
from collector.notify.models import Delivery
from collector.reports import repository as reports_repository
from collector.reports import schedule
from collector.reports.storage import storage_for
from collector.settings import CollectorSettings, MailSettings, load
from tests.support.docblocks import example
from tests.support.plays import seed
from tests.support.smtp import PASSWORD, USER, SmtpServer

pytestmark = pytest.mark.slow
AFTER_JANUARY = datetime(2026, 2, 3, 12, 0, tzinfo=UTC)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    directory = tmp_path / "smtp"
    directory.mkdir()
    server = SmtpServer(directory)
    yield server
    server.close()


def password_file(tmp_path: Path, text: str = PASSWORD) -> Path:
    path = tmp_path / "smtp.password"
    path.write_text(text + "\n")
    path.chmod(0o600)
    return path


def mail_settings(database_url: str, tmp_path: Path, smtp: SmtpServer) -> CollectorSettings:
    return CollectorSettings(
        environment="test",
        database_url=database_url,
        report_dir=tmp_path / "reports",
        public_url="https://collector.sodav.test",
        mail=MailSettings(
            host="localhost",
            port=smtp.port,
            username=USER,
            password_file=password_file(tmp_path),
            ca_file=smtp.ca,
            sender="SODAV Monitor <monitor@sodav.test>",
        ),
    )


@pytest.fixture
def db(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    engine.dispose()


def test_scheduled_files_reach_their_subscribers_in_their_language(
    db: sessionmaker[Session], database_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    settings = mail_settings(database_url, tmp_path, smtp)
    with transaction(db) as s:
        seed(s)
        analyst, _token = fleet.create_user(s, "awa", "analyst")
        service.subscribe_report(s, "awa@sodav.test", "playlist", "rfm", "pdf", "fr", analyst)
        service.subscribe_report(s, "finance@sodav.test", "airtime", "all", "xlsx", "en")
        service.subscribe_report(s, "gone@sodav.test", "playlist", "sud", "xlsx", "fr")
    smtp.refuse.add("gone@sodav.test")

    made = 0
    while True:  # the worker's scheduled generation, as many files per call as it takes
        with transaction(db) as s:
            done = schedule.run_due(s, settings, AFTER_JANUARY, budget=50)
        made += done
        if not done:
            break
    assert made > 0
    with db() as s:
        queued = list(s.scalars(select(Delivery).order_by(Delivery.id)))
    # January's pdf playlist of rfm; the airtime of 2026-01 and of 2025-S2; sud's xlsx playlists
    assert sorted((d.payload["name"].rsplit("/", 1)[-1]) for d in queued) == [
        "airtime-all-2025-S2.xlsx",
        "airtime-all-2026-01.xlsx",
        "playlist-rfm-2026-01.pdf",
        "playlist-sud-2025-S2.xlsx",
        "playlist-sud-2026-01.xlsx",
    ]

    storage = storage_for(settings)
    deliverer = Deliverer(settings, storage.read)
    try:
        deliverer.tick(db)
    finally:
        deliverer.close()

    by_file = {}
    for message in smtp.messages:
        (attachment,) = list(message.iter_attachments())
        by_file[attachment.get_filename()] = (message, attachment)
    assert sorted(by_file) == [
        "airtime-all-2025-S2.xlsx",
        "airtime-all-2026-01.xlsx",
        "playlist-rfm-2026-01.pdf",
    ]

    message, attachment = by_file["playlist-rfm-2026-01.pdf"]
    assert message["To"] == "awa@sodav.test" and message["From"] == "SODAV Monitor <monitor@sodav.test>"
    assert message["Subject"] == "SODAV Monitor : Relevé de diffusion, rfm, 2026-01"
    assert "Bonjour," in message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == storage.read("2026-01/playlist-rfm-2026-01.pdf")

    message, attachment = by_file["airtime-all-2026-01.xlsx"]
    assert message["Subject"] == "SODAV Monitor: Airtime, all stations, 2026-01"
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "has just been generated" in text and "subscription #2" in text
    assert attachment.get_content() == storage.read("2026-01/airtime-all-2026-01.xlsx")

    def sud() -> dict[str, tuple[str, int, str | None]]:
        with db() as s:
            rows = [d for d in s.scalars(select(Delivery)) if "playlist-sud" in d.payload["name"]]
            return {d.payload["name"].rsplit("/", 1)[-1]: (d.status, d.attempts, d.last_error) for d in rows}

    # a refused address fails for good at once; its other file waits for the next cycle
    assert sorted((status, n) for status, n, _ in sud().values()) == [("failed", 1), ("pending", 0)]
    deliverer = Deliverer(settings, storage.read)
    try:
        deliverer.tick(db)
    finally:
        deliverer.close()
    assert [(status, n) for status, n, _ in sud().values()] == [("failed", 1), ("failed", 1)]
    assert all("recipient refused: 550 5.1.1 no such user here" in (e or "") for _, _, e in sud().values())
    assert len(smtp.messages) == 3


def test_a_file_too_large_for_mail_is_sent_as_a_link(
    db: sessionmaker[Session], database_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    settings = mail_settings(database_url, tmp_path, smtp)
    settings.mail.max_attachment_mb = 0.001
    with transaction(db) as s:
        seed(s)
        service.subscribe_report(s, "finance@sodav.test", "airtime", "all", "xlsx", "en")
        schedule.generate(s, settings, schedule.Spec("2026-01", "airtime", "all", "xlsx"))
        record = reports_repository.generated_report(s, "2026-01", "airtime", "all", "xlsx", "fr")
        assert record is not None
        events.report_file(s, schedule.describe(record))
    deliverer = Deliverer(settings, storage_for(settings).read)
    try:
        deliverer.tick(db)
    finally:
        deliverer.close()
    (message,) = smtp.messages
    assert list(message.iter_attachments()) == []
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert f"https://collector.sodav.test/api/v1/reports/files/{record.id}" in text


def _mail_test(config: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "collector.cli", "--config", str(config), "mail", "test", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_mail_test_sends_with_the_guides_settings_and_says_what_failed(
    tmp_path: Path, smtp: SmtpServer
) -> None:
    config = tmp_path / "collector.toml"
    config.write_text('environment = "test"\n' + example("ops/notifications", "mail-config"))
    documented = tomllib.loads(config.read_text())["mail"]
    assert load(config, environ={}).mail.model_dump(include=set(documented)) == {
        **documented,
        "password_file": Path(documented["password_file"]),
    }
    here = {
        "SODAV_COLLECTOR_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
        "SODAV_COLLECTOR_MAIL__HOST": "localhost",
        "SODAV_COLLECTOR_MAIL__PORT": str(smtp.port),
        "SODAV_COLLECTOR_MAIL__USERNAME": USER,
        "SODAV_COLLECTOR_MAIL__PASSWORD_FILE": str(password_file(tmp_path)),
        "SODAV_COLLECTOR_MAIL__CA_FILE": str(smtp.ca),
    }
    sent = _mail_test(config, here, "analyste@sodav.test", "--lang", "en")
    assert sent.returncode == 0, sent.stderr
    assert f"test message sent to analyste@sodav.test through localhost:{smtp.port}" in sent.stdout
    (message,) = smtp.messages
    assert message["Subject"] == "SODAV Monitor: test message"
    assert message["From"] == "SODAV Monitor <monitor@sodav.sn>"  # the guide's sender

    wrong = tmp_path / "wrong"
    wrong.mkdir()
    refused = _mail_test(
        config, {**here, "SODAV_COLLECTOR_MAIL__PASSWORD_FILE": str(password_file(wrong, "nope"))}, "a@b.test"
    )
    assert refused.returncode == 2
    assert "SMTP 535" in refused.stderr and PASSWORD not in refused.stderr + refused.stdout

    untrusted = _mail_test(config, {k: v for k, v in here.items() if "CA_FILE" not in k}, "a@b.test")
    assert untrusted.returncode == 2
    assert "TLS failed" in untrusted.stderr and "mail.ca_file" in untrusted.stderr
    assert len(smtp.messages) == 1
