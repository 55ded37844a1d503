"""AcoustID's 3 requests a second are counted once for every process: two real processes asking
at once take distinct slots from the one row they share in the database (``next_slot_at``,
under the row lock that also guards the budget). Redis is not needed for it, nor used."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from collector.db.session import transaction
from collector.recognizers.models import RecognizerService
from collector.recognizers.service import status
from tests.integration.collector.recognizers.test_gate import (  # noqa: F401 (fixtures)
    served,
    sessions,
    settings_for,
)
from tests.support.recognizers_standin import Standin

ROOT = Path(__file__).resolve().parents[4]
ASK = """
from collector.db.engine import make_engine, make_sessionmaker
from collector.recognizers.service import Recognizers
from collector.settings import load
from tests.integration.collector.recognizers.test_gate import _whole
from tests.support.audio import track

settings = load()
values, duration = _whole(track(0))
with Recognizers(settings, make_sessionmaker(make_engine(settings.database_url))) as rec:
    print(" ".join(rec.acoustid_lookup(values, duration).kind for _ in range(3)))
"""


def test_two_processes_share_acoustid_rate(
    served: Standin,  # noqa: F811
    database_url: str,
    sessions: sessionmaker[Session],  # noqa: F811
    tmp_path: Path,
) -> None:
    settings = settings_for(served, database_url, tmp_path)
    rec = settings.recognizers
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        SODAV_COLLECTOR_ENVIRONMENT="test",
        SODAV_COLLECTOR_DATABASE_URL=database_url,
        SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_URL=rec.acoustid_url,
        SODAV_COLLECTOR_RECOGNIZERS__ACOUSTID_KEY_FILE=str(rec.acoustid_key_file),
    )
    before = datetime.now(UTC)
    procs = [
        subprocess.Popen([sys.executable, "-c", ASK], env=env, cwd=ROOT, stdout=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    answers = [p.communicate(timeout=180)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0, 0]
    assert answers == [["named"] * 3] * 2
    with transaction(sessions) as s:
        row = s.get(RecognizerService, "acoustid")
        assert row is not None and row.next_slot_at is not None
        # six requests, six slots a third of a second apart, whichever process took them
        assert row.next_slot_at - before >= timedelta(seconds=6 / 3)
        assert status(s, settings)[0].today == {"named": 6}
    assert len(served.requests) == 6
