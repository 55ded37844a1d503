"""Redis beside the collector (``redis_url``): report answers are kept there and follow the plays,
and when Redis goes away and comes back nothing is lost and every answer stays right."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import delete, select

from collector.db.session import transaction
from collector.kv import RETRY_S
from collector.plays.models import Play
from tests.fixtures.collector import Collector
from tests.fixtures.redis import RedisServer
from tests.support.docblocks import example
from tests.support.plays import seed
from tests.support.scrape import Scrape

JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def _final_january(c: Collector) -> list[int]:
    with c.session() as s:
        return list(
            s.scalars(
                select(Play.id)
                .where(Play.status == "final", Play.start >= JAN[0], Play.start < JAN[1])
                .order_by(Play.id)
            )
        )


def test_report_answers_follow_the_plays_while_redis_goes_away_and_comes_back(
    database_url: str, tmp_path: Path, redis_server: RedisServer
) -> None:
    config = tmp_path / "collector.toml"  # the guide's example, on the test's Redis
    config.write_text(example("ops/redis", "redis").replace(":6379/", f":{redis_server.port}/"))
    c = Collector(database_url, tmp_path, extra_env={"SODAV_COLLECTOR_CONFIG": str(config)})
    c.start()
    try:
        with transaction(c.tx) as s:
            seed(s)
        analyst = {"Authorization": f"Bearer {c.add_user('ana', 'analyst')}"}

        def plays_counted() -> int:
            r = httpx.get(
                c.url + "/api/v1/reports/airtime", params={"period": "2026-01"}, headers=analyst, timeout=60
            )
            assert r.status_code == 200, r.text
            return sum(int(item["plays"]) for item in r.json()["items"])

        def metric(name: str, **labels: str) -> float:
            found = Scrape(httpx.get(c.url + "/metrics", timeout=10).text).value(name, **labels)
            return found or 0.0

        final = _final_january(c)
        assert plays_counted() == len(final)
        assert plays_counted() == len(final)  # the second answer comes from the cache
        assert metric("sodav_report_cache_total", report="airtime", outcome="hit") >= 1
        assert redis_server.client().keys("sodav:report:*")
        assert metric("sodav_redis_up") == 1

        # a worker rewrites plays (here: one January play goes), a reviewer flags another
        with transaction(c.tx) as s:
            s.execute(delete(Play).where(Play.id == final[0]))
        assert plays_counted() == len(final) - 1
        r = httpx.put(
            f"{c.url}/api/v1/plays/{final[1]}/flag", json={"reason": "a jingle"}, headers=analyst, timeout=10
        )
        assert r.status_code == 200, r.text
        assert plays_counted() == len(final) - 2

        redis_server.kill()  # Redis goes away: answers stay right
        assert plays_counted() == len(final) - 2
        with transaction(c.tx) as s:
            s.execute(delete(Play).where(Play.id == final[2]))
        assert plays_counted() == len(final) - 3
        assert "redis is down" in c.log()
        assert metric("sodav_redis_up") == 0
        # whichever use met the outage first (the live events' relay asks Redis all the time)
        uses = ("report cache", "live events")
        assert sum(metric("sodav_redis_failures_total", use=u) for u in uses) >= 1

        redis_server.start()  # it comes back, empty (no persistence): answers are kept there again
        time.sleep(RETRY_S)  # a process tries Redis again this long after its last failure
        with transaction(c.tx) as s:
            s.execute(delete(Play).where(Play.id == final[3]))
        deadline = time.monotonic() + 30
        while "redis is back" not in c.log():  # the next answer not in this process asks Redis
            assert plays_counted() == len(final) - 4
            assert time.monotonic() < deadline, c.log()[-2000:]
            time.sleep(0.5)
        assert plays_counted() == len(final) - 4
        assert redis_server.client().keys("sodav:report:*")
        assert metric("sodav_redis_up") == 1
    finally:
        c.close()
