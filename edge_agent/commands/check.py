"""``sodav-agent check``: is this box ready? Config, every source, the collector, the token.

For each source: connects, shows codec and rate, a level meter (one line per second) and
the ICY title; then the collector's reachability and whether the token is accepted.
Each problem is printed with what to do next; the exit status is the number of problems.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import httpx

from edge_agent import tls
from edge_agent.capture.station import StationCapture
from edge_agent.client import CollectorClient, collector_json, error_message
from edge_agent.config import AgentSettings, StationSettings, load
from edge_agent.disk import data_dir_ok
from edge_agent.errors import AuthError, NotACollector, UploadError
from edge_agent.events import Event
from shared.config import ConfigError
from shared.pcm import Pcm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="level meter length per source (default 10)"
    )
    parser.add_argument("--station", help="check only this station")


class _MeterSink:
    """One line per second of audio, as it comes. What the server had buffered and sent at
    once on connecting (audio that aired before the meter started) is one line, not a burst
    of lines that would look live."""

    def __init__(self, rate: int, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.rate = rate
        self.clock = clock
        self.buf: list[Pcm] = []
        self.n = 0
        self.levels: list[float] = []  # every second's level, buffered or live
        self.live = 0  # seconds shown as they came
        self.backlog: list[Pcm] = []
        self.events: list[str] = []
        self._end: datetime | None = None  # air time of the end of the audio so far
        self._began: datetime | None = None  # when the meter got its first audio

    def run_started(self, station: str, run_id: int, start: datetime) -> None:
        self._end, self._began = start, self.clock()

    def audio(self, station: str, run_id: int, pcm: Pcm) -> None:
        assert self._end is not None and self._began is not None
        self.buf.append(pcm)
        self.n += pcm.samples
        self._end += timedelta(seconds=pcm.samples / self.rate)
        if self.n < self.rate:
            return
        second = Pcm.join(self.buf)
        self.buf, self.n = [], 0
        self.levels.append(second.level_dbfs)
        if self._end <= self._began:  # aired before we were listening: the server's buffer
            self.backlog.append(second)
            return
        self.flush()
        self.live += 1
        bar = "#" * max(0, int((second.level_dbfs + 60) / 2))
        print(f"    {self.live:>3} s  {second.level_dbfs:6.1f} dBFS  {bar}")

    def flush(self) -> None:
        """Show the buffered audio not shown yet."""
        if self.backlog:
            level = Pcm.join(self.backlog).level_dbfs
            print(f"    ({len(self.backlog)} s the server had buffered, received at once: {level:.1f} dBFS)")
            self.backlog = []

    def run_ended(self, station: str, run_id: int) -> None:
        pass

    def event(self, event: Event) -> None:
        if event.kind == "metadata":
            print(f"    ICY title: {event.title}")
        elif event.end is None:
            self.events.append(f"{event.kind}: {event.reason or ''} {event.detail or ''}".strip())


def check_source(settings: AgentSettings, st: StationSettings, seconds: float) -> list[str]:
    print(f"- {st.slug} ({st.kind}): {st.url or st.device or st.path}")
    sink = _MeterSink(settings.fingerprint.sample_rate)
    cap = StationCapture(
        st.model_copy(update={"realtime": True}), settings.fingerprint.sample_rate, settings.health, sink
    )
    cap.listen(lambda: sink.live >= seconds or bool(sink.events), timeout=seconds + 10)
    sink.flush()
    snap = cap.health.snapshot()
    problems = []
    if snap.codec:
        print(f"    codec {snap.codec}, {snap.sample_rate} Hz")
    if not sink.levels:
        why = sink.events[0] if sink.events else "no audio received"
        problems.append(f"{st.slug}: {why}. Check the URL/device, then the station's server or the receiver.")
    elif max(sink.levels) < settings.health.silence_dbfs:
        problems.append(
            f"{st.slug}: audio is silent (max {max(sink.levels):.1f} dBFS): check the cable, the "
            "receiver volume, or the station"
        )
    return problems


def check_collector(settings: AgentSettings) -> list[str]:
    url = settings.collector.url
    if not url:
        return ["collector.url is not set: run `sodav-agent enroll URL CODE`"]
    print(f"- collector {url}")
    try:
        r = httpx.get(url + "/healthz", timeout=10, verify=tls.verify(settings.collector.verify_tls))
    except httpx.HTTPError as exc:
        return [f"collector unreachable ({exc}): check the network (phone link, DNS) and collector.url"]
    try:
        version = collector_json(r).get("version") if r.status_code == 200 else None
    except NotACollector:
        version = None
    if version is None:
        return [f"{url}/healthz: {error_message(r)}"]
    print(f"    reachable, version {version}")
    try:
        token = settings.resolved_token()
    except ConfigError as exc:
        return [str(exc)]
    if token is None:
        looked = ", ".join(str(path) for path, _ in settings.token_files())
        return [
            f"no token (looked in {looked}): run `sudo sodav-agent enroll URL CODE` with the code "
            "from the collector admin"
        ]
    client = CollectorClient(settings, token.get_secret_value())
    try:
        me = client.get_json("/api/v1/agents/me")
    except AuthError as exc:
        return [
            f"token refused ({exc}); ask the collector admin for a new enrollment code "
            f"(`sodav-collector agents enroll-code {settings.name or 'NAME'}`), then run "
            "`sodav-agent enroll URL CODE`"
        ]
    except UploadError as exc:
        return [f"the token could not be checked: {exc}"]
    finally:
        client.close()
    print(f"    token accepted: agent {me['agent']}, stations {', '.join(me['stations'])}")
    missing = sorted({s.slug for s in settings.stations} - set(me["stations"]))
    if missing:
        return [
            f"stations {missing} are configured here but not assigned to this agent on the collector; "
            "their uploads would be refused"
        ]
    return []


def run(args: argparse.Namespace) -> int:
    settings = load(args.config)
    print(f"configuration OK: {len(settings.stations)} station(s), data in {settings.data_dir}")
    problems: list[str] = []
    p = data_dir_ok(settings.data_dir)
    if p:
        problems.append(p)
    for st in settings.stations:
        if args.station and st.slug != args.station:
            continue
        problems += check_source(settings, st, args.seconds)
    problems += check_collector(settings)
    if problems:
        print("\nPROBLEMS:")
        for pr in problems:
            print(f"  * {pr}")
        return min(len(problems), 100)
    print("\nall good")
    return 0
