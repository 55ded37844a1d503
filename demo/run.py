"""``./dev demo`` (``python -m demo``): the main job end to end, on the embedded default (SQLite).

1. builds a short radio recording from free music (demo/programme.py), with truth;
2. starts a real collector (``sodav-collector serve``, SQLite, matching worker in-process);
3. imports the demo catalog, creates the station and an agent, enrolls the agent;
4. streams the recording over a real local HTTP stream (ffmpeg as the server);
5. runs a real agent (``sodav-agent run``) on that stream: capture → fingerprints →
   outbox → uploads;
6. waits for the collector to match everything, then prints the plays beside the truth;
7. prints the web app's address with an admin's token; with ``--serve``, keeps the collector
   running for you to look around until Ctrl-C.

The stream is served at 4× real time to keep the demo short; the agent's timestamps come
from sample counts, so times read as if the station had been live.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx

from demo.programme import MUSIC_DIR, MUSIC_PACKAGE, build_demo
from shared.progress import Progress

# what the demo runs besides Python, and the Debian package that brings it (``./dev`` installs
# them; tests/unit/demo/test_setup.py keeps this list and ``dev``'s in step)
TOOLS = {"ffmpeg": "ffmpeg", "espeak-ng": "espeak-ng"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _step(text: str) -> None:
    print(f"==> {text}", flush=True)


def _cli(module: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module, *args], env=env, text=True, capture_output=True, check=True
    )


def missing_packages() -> list[str]:
    """The Debian packages whose tools or music the demo needs and cannot find."""
    missing = [package for tool, package in TOOLS.items() if shutil.which(tool) is None]
    if not list(Path(MUSIC_DIR).glob("*.ogg")):
        missing.append(MUSIC_PACKAGE)
    return missing


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="demo", description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--dir", help="keep the demo files here (default: a temporary folder)")
    parser.add_argument("--speed", type=float, default=4.0, help="stream speed vs real time (default 4)")
    parser.add_argument(
        "--serve", action="store_true", help="keep the collector and its web app running until Ctrl-C"
    )
    args = parser.parse_args(argv)
    missing = missing_packages()
    if missing:
        print(
            f"demo: {', '.join(missing)} not installed. On Debian: apt-get install {' '.join(missing)}"
            " (as root), then run the demo again.",
            file=sys.stderr,
        )
        return 2
    t0 = time.monotonic()
    work = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="sodav-demo-"))
    work.mkdir(parents=True, exist_ok=True)
    procs: list[subprocess.Popen[bytes]] = []
    status = 1
    try:
        status = _run(work, args.speed, procs, t0, keep=bool(args.dir), serve=args.serve)
        return status
    except KeyboardInterrupt:
        status = 0 if args.serve else 130
        return status
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        if not args.dir and status == 0:
            shutil.rmtree(work, ignore_errors=True)
        elif not args.dir:  # the logs a failure message points to
            print(f"demo: its files (logs, database, recording) are kept in {work}", file=sys.stderr)


def _run(
    work: Path, speed: float, procs: list[subprocess.Popen[bytes]], t0: float, keep: bool, serve: bool = False
) -> int:
    _step("building a demo radio recording from free music (hedgewars-data) and espeak-ng speech")
    bar = Progress("    mixing", 1)
    demo = build_demo(work / "radio", bar)
    bar.done()
    db = work / "collector.db"
    env = dict(
        os.environ,
        SODAV_COLLECTOR_DATABASE_URL=f"sqlite:///{db}",
        SODAV_COLLECTOR_ENVIRONMENT="development",
        SODAV_COLLECTOR_WORKER__POLL_INTERVAL_S="0.5",
    )
    _step("importing the demo catalog")
    print("    " + _cli("collector.cli", "catalog", "import", str(demo.catalog_csv), env=env).stdout.strip())
    _cli("collector.cli", "stations", "add", "radio-demo", "--name", "Radio Démo Dakar", env=env)
    out = _cli("collector.cli", "agents", "add", "demo-box", "--stations", "radio-demo", env=env).stdout
    code = next(line.split()[-1] for line in out.splitlines() if "enrollment code" in line)

    port = _port()
    url = f"http://127.0.0.1:{port}"
    _step(f"starting the collector on {url} (embedded SQLite: {db})")
    with (work / "collector.log").open("wb") as log:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "collector.cli", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    for _ in range(100):
        try:
            if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
    else:
        print(f"demo: the collector did not start; see {work / 'collector.log'}", file=sys.stderr)
        return 1

    stream_port = _port()
    stream_url = f"http://127.0.0.1:{stream_port}/radio.mp3"
    agent_dir = work / "agent"
    config = work / "agent.toml"
    config.write_text(
        f'name = "demo-box"\ndata_dir = "{agent_dir}"\n[collector]\nurl = "{url}"\nbatch_max_age_s = 2\n'
        f"heartbeat_interval_s = 5\n[health]\nreconnect_initial_s = 0.5\nreconnect_max_s = 2\n"
        f'[buffer]\nexcerpt_hours = 1\n[[stations]]\nslug = "radio-demo"\nurl = "{stream_url}"\n'
    )
    aenv = dict(os.environ, SODAV_AGENT_CONFIG=str(config))
    _step("enrolling the agent")
    print("    " + _cli("edge_agent.cli", "enroll", url, code, env=aenv).stdout.splitlines()[0])

    _step(f"streaming the recording over HTTP at {speed:g}x ({stream_url}) into a real agent")
    with (work / "stream.log").open("wb") as log:
        # ffmpeg as a one-client HTTP server, the MP3 copied as is at `speed` times real time
        source = ["ffmpeg", "-v", "error", "-readrate", str(speed), "-i", str(demo.recording)]
        listen = ["-c", "copy", "-f", "mp3", "-listen", "1", stream_url]
        stream = subprocess.Popen([*source, *listen], stdout=log, stderr=subprocess.STDOUT)
    procs.append(stream)
    t_stream = time.monotonic()
    time.sleep(0.5)
    with (work / "agent.log").open("wb") as log:
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "edge_agent.cli", "run"],
                env=aenv,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    bar = Progress("    streaming", round(demo.duration), " s of radio")
    while stream.poll() is None and time.monotonic() - t_stream < 600:
        bar.update(min(demo.duration, (time.monotonic() - t_stream) * speed))
        time.sleep(1)
    bar.done()
    if stream.poll() is None:
        print(f"demo: the stream did not end; see {work / 'stream.log'}", file=sys.stderr)
        return 1
    _step("stream ended; waiting for the last uploads and for matching")
    from sqlalchemy import create_engine, text

    engine = create_engine(f"sqlite:///{db}")
    deadline = time.monotonic() + 120
    # one segment per 10 s of broadcast
    bar = Progress("    matching", int(demo.duration // 10), " segments")
    with engine.connect() as conn:
        while time.monotonic() < deadline:
            queued = subprocess.run(
                [sys.executable, "-m", "edge_agent.cli", "status", "--json"],
                env=aenv,
                capture_output=True,
                text=True,
            ).stdout
            new = conn.execute(
                text("SELECT count(*) FROM segments WHERE status IN ('new', 'claimed')")
            ).scalar()
            # the agent reports the end of the stream as an outage once its last segment is stored
            ended = conn.execute(text("SELECT count(*) FROM events WHERE kind = 'outage'")).scalar()
            stored = conn.execute(text("SELECT count(*) FROM segments")).scalar() or 0
            bar.update(min(bar.total, stored - (new or 0)))
            if '"queue_depth": 0' in queued and new == 0 and ended:
                break
            time.sleep(1)
        bar.done()
        run_start = conn.execute(text("SELECT min(start) FROM segments")).scalar()
        plays = conn.execute(
            text(
                "SELECT r.external_id, r.title, p.start, p.end, p.confidence, p.rate_ppm FROM plays p "
                "JOIN recordings r ON r.id = p.recording_id ORDER BY p.start"
            )
        ).all()
        nseg = conn.execute(text("SELECT count(*) FROM segments")).scalar()
    engine.dispose()
    origin = _as_dt(run_start)
    truth = list(csv.DictReader(demo.truth_csv.open()))
    print()
    print(
        f"{len(plays)} plays detected from {nseg} segments; truth: {len(truth)} catalog plays "
        f"(plus speech, a voice-over and an off-catalog song that must not be named)"
    )
    print(
        f"{'':2}{'TRUTH':<28}{'start':>8}{'end':>8}  | "
        f"{'DETECTED':<28}{'start':>8}{'end':>8}{'conf':>6}{'rate':>7}"
    )
    used: set[int] = set()
    for row in truth:
        s, e = float(row["start_s"]), float(row["end_s"])
        best = None
        for i, (ext, *_rest) in enumerate(plays):
            if ext == row["external_id"] and i not in used:
                best = i
                break
        left = f"{row['external_id'] + ' ' + row['title']:<28}{s:8.1f}{e:8.1f}"
        if best is None:
            print(f"  {left}  | {'(missed)':<28}")
            continue
        used.add(best)
        ext, title, ps, pe, conf, rate = plays[best]
        ds, de = (_as_dt(ps) - origin).total_seconds(), (_as_dt(pe) - origin).total_seconds()
        print(f"  {left}  | {ext + ' ' + title:<28}{ds:8.1f}{de:8.1f}{conf:6.2f}{rate / 1e4:+6.1f}%")
    for i, (ext, title, ps, pe, conf, _rate) in enumerate(plays):
        if i not in used:
            ds, de = (_as_dt(ps) - origin).total_seconds(), (_as_dt(pe) - origin).total_seconds()
            print(f"  {'(not in truth)':<44}  | {ext + ' ' + title:<28}{ds:8.1f}{de:8.1f}{conf:6.2f}")
    print(
        f"\n(seconds from the start of the broadcast; demo took {time.monotonic() - t0:.0f} s; "
        + (f"files in {work})" if keep else "--dir DIR keeps its files)")
    )
    found = len(used)
    status = 0 if found == len(truth) and len(plays) == len(truth) else 1
    _web_app(url, env, procs[0] if serve else None)
    return status


def _web_app(url: str, env: dict[str, str], collector: subprocess.Popen[bytes] | None) -> None:
    """The web app's address, with a demo admin's token in the fragment (which the browser keeps
    to itself: the app signs in with it, and no server log ever sees it)."""
    out = _cli("collector.cli", "users", "add", "demo-admin", "--role", "admin", env=env).stdout
    token = next(line.split()[-1] for line in out.splitlines() if "token" in line)
    print(f"\nThe web application: {url}/#token={token}")
    print(f"    (or open {url}/ and paste the token {token}; the API: {url}/docs)")
    if collector is None:
        print("    it stops with the demo: `./dev demo --serve` keeps it running until Ctrl-C")
        return
    print("    serving until Ctrl-C ...")
    collector.wait()


def _as_dt(value: object) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


if __name__ == "__main__":
    sys.exit(main())
