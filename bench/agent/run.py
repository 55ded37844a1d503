"""Edge agent CPU and memory: the real ``sodav-agent run`` on 1, 4 and 8 MP3 stations.

Every station replays the same ~15 min, 128 kbit/s stereo MP3 (wesnoth tracks) as a file
source in fast mode (``realtime = false``), so the agent decodes, resamples, fingerprints,
segments and writes its SQLite outbox as fast as the CPU allows. No collector is configured,
unless ``--collector``: then a real collector (``sodav-collector serve``, SQLite, on
127.0.0.1) receives the uploads and heartbeats while the agent works, and the figures include
the uploader (its HTTP client, batches, acknowledgements; plain HTTP, no TLS).

CPU is the agent process's own rusage (user + system, including its ffmpeg excerpt encoders,
which it waits for) from ``os.wait4``; peak RSS is ``ru_maxrss`` of the agent process. In the
same run we time ``ffmpeg -i same.mp3 -f null -`` (decode only) and ``fpcalc -length 0``
(decode + one Chromaprint pass in C) on the same file, so the ratios hold on any machine.

    .venv/bin/python bench/agent/run.py [--minutes 15] [--stations 1 4 8] [--excerpts]
                                        [--system-chromaprint] [--collector] [--repeat 3]
    .venv/bin/python bench/agent/run.py --smoke   # seconds: 1 station, 30 s of audio, 1 run each

Each measurement is repeated (``--repeat``, default 3) and the median run (by CPU) is kept:
on a shared machine one run can be 30 % off.

The agent loads the FFmpeg-free Chromaprint that ``./dev setup`` builds (shared/chroma.py);
``--system-chromaprint`` measures it with Debian's libchromaprint1 instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.music import broadcast_mp3, duration
from shared.progress import Progress

ONE = [0]
SWEEP = [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000]


def measure(cmd: list[str], ok: tuple[int, ...] = (0,)) -> tuple[float, float, int, int]:
    """Run ``cmd``; return (CPU s of it and its waited-for children, wall s, max RSS KiB,
    max anonymous RSS KiB). Anonymous RSS (heap, buffers) leaves out the shared-library
    pages that RSS also counts; it is polled from /proc every 50 ms."""
    t0 = time.monotonic()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        anon = 0
        while True:
            pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            anon = max(anon, proc_status(proc.pid).get("RssAnon", 0))
            time.sleep(0.05)
        proc.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - t0
        if proc.returncode not in ok:
            err.seek(0)
            tail = err.read()[-2000:].decode(errors="replace")
            raise SystemExit(f"{cmd[0]} failed ({proc.returncode}): {tail}")
    return ru.ru_utime + ru.ru_stime, wall, ru.ru_maxrss, anon


REPEAT = 3


def median_of(
    run: Callable[[], tuple[float, float, int, int]], bar: Progress, what: str, units: int = 1
) -> tuple[float, float, int, int]:
    """The run with the median CPU time out of REPEAT runs (``units`` of ``bar`` each)."""
    runs = []
    for _ in range(REPEAT):
        bar.step(what, units)
        runs.append(run())
    runs.sort(key=lambda r: r[0])
    return runs[len(runs) // 2]


def proc_status(pid: int) -> dict[str, int]:
    """The kB fields of /proc/PID/status (VmRSS, VmHWM, RssAnon, ...); {} once it is gone."""
    fields = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if value.strip().endswith("kB"):
                fields[key] = int(value.split()[0])
    except OSError:
        pass
    return fields


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class Collector:
    """A real collector on 127.0.0.1 (SQLite) with stations st0..st{stations-1}; one agent per run."""

    def __init__(self, work: Path, stations: int = 8) -> None:
        self.env = dict(
            os.environ,
            SODAV_COLLECTOR_DATABASE_URL=f"sqlite:///{work / 'collector.db'}",
            SODAV_COLLECTOR_ENVIRONMENT="development",
        )
        self._cli("db", "upgrade")
        for i in range(stations):
            self._cli("stations", "add", f"st{i}")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.log = (work / "collector.log").open("wb")
        serve = [sys.executable, "-m", "collector.cli", "serve", "--port", str(port)]
        self.proc = subprocess.Popen(serve, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.agents = 0
        for _ in range(150):
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1):  # noqa: S310 (http://127.0.0.1)
                    return
            except OSError:
                time.sleep(0.2)
        raise SystemExit(f"the collector did not start: see {work / 'collector.log'}")

    def _cli(self, *args: str) -> str:
        cmd = [sys.executable, "-m", "collector.cli", *args]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, check=True).stdout

    def enroll(self, work: Path, n: int) -> tuple[str, list[str]]:
        """A new agent for stations st0..st{n-1}, enrolled into ``work``: name, [collector] lines."""
        self.agents += 1
        name = f"bench-{self.agents}"
        out = self._cli("agents", "add", name, "--stations", ",".join(f"st{i}" for i in range(n)))
        code = next(line.split()[-1] for line in out.splitlines() if "enrollment code" in line)
        token = work / "token"
        agent = Path(sys.executable).with_name("sodav-agent")
        enroll = [str(agent), "enroll", self.url, code, "--token-file", str(token)]
        subprocess.run(enroll, capture_output=True, text=True, check=True)
        return name, ["[collector]", f'url = "{self.url}"', f'token_file = "{token}"']

    def segments(self) -> int:
        """Segments the collector has received (from every agent so far)."""
        db = sqlite3.connect(self.env["SODAV_COLLECTOR_DATABASE_URL"].removeprefix("sqlite:///"))
        try:
            (count,) = db.execute("SELECT count(*) FROM segments").fetchone()
        finally:
            db.close()
        return int(count)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        self.log.close()


COLLECTOR: Collector | None = None


def agent_config(work: Path, mp3: Path, n: int, variants: list[int], excerpts: bool) -> Path:
    lines = [f'data_dir = "{work / "data"}"', 'log_level = "WARNING"']
    if COLLECTOR is not None:
        name, collector = COLLECTOR.enroll(work, n)
        lines = [f'name = "{name}"', *lines, *collector]
    lines += ["[buffer]", f"excerpt_hours = {48 if excerpts else 0}"]
    for i in range(n):
        lines += [
            "[[stations]]",
            f'slug = "st{i}"',
            f'path = "{mp3}"',
            "realtime = false",
            'start = "2026-01-01T00:00:00Z"',
            f"rate_variants_ppm = {variants}",
        ]
    cfg = work / "agent.toml"
    cfg.write_text("\n".join(lines) + "\n")
    return cfg


def run_agent(mp3: Path, n: int, variants: list[int], excerpts: bool) -> tuple[float, float, int, int]:
    agent = Path(sys.executable).with_name("sodav-agent")
    with tempfile.TemporaryDirectory(prefix="sodav-bench-agent-") as tmp:
        work = Path(tmp)
        cfg = agent_config(work, mp3, n, variants, excerpts)
        received = COLLECTOR.segments() if COLLECTOR else 0
        cpu, wall, rss, anon = measure([str(agent), "--config", str(cfg), "run"])
        db = sqlite3.connect(work / "data" / "outbox.sqlite")
        (segments,) = db.execute("SELECT count(*) FROM segments").fetchone()
        db.close()
        if COLLECTOR is not None:  # acknowledged segments left the outbox
            segments += COLLECTOR.segments() - received
        expected = n * int(duration(mp3) // 10)
        if segments < expected:
            raise SystemExit(f"agent wrote {segments} segments, expected ≥{expected}: see its log")
    return cpu, wall, rss, anon


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--minutes", type=float, default=15.0, help="length of the test MP3")
    ap.add_argument("--stations", type=int, nargs="+", default=[1, 4, 8])
    ap.add_argument("--excerpts", action="store_true", help="also keep Opus excerpts (default config)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement, median kept")
    ap.add_argument(
        "--system-chromaprint", action="store_true", help="the agent uses Debian's libchromaprint1"
    )
    ap.add_argument("--collector", action="store_true", help="upload to a real collector on 127.0.0.1")
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    args = ap.parse_args()
    if args.smoke:
        args.minutes, args.stations, args.repeat = 0.5, [1], 1
    global REPEAT
    REPEAT = max(1, args.repeat)
    if args.system_chromaprint:
        os.environ["SODAV_CHROMAPRINT_LIB"] = "system"  # inherited by the agent processes
    probe = "from shared.chroma import library_path; print(library_path())"
    lib = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    for tool in ("ffmpeg", "fpcalc"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found: apt-get install ffmpeg libchromaprint-tools")

    global COLLECTOR
    with tempfile.TemporaryDirectory(prefix="sodav-bench-collector-") as tmp:
        COLLECTOR = Collector(Path(tmp), max(args.stations)) if args.collector else None
        try:
            report(args, lib.stdout.strip())
        finally:
            if COLLECTOR is not None:
                COLLECTOR.close()


def report(args: argparse.Namespace, lib: str) -> None:
    mp3 = broadcast_mp3(args.minutes)
    audio_s = duration(mp3)
    hours = audio_s / 3600
    print(
        f"file: {mp3.name}, {audio_s:.0f} s of 128 kbit/s stereo MP3; "
        f"excerpts {'on' if args.excerpts else 'off'}; "
        f"collector {COLLECTOR.url if COLLECTOR else 'none'}; libchromaprint: {lib}; "
        f"median of {REPEAT} runs each"
    )

    # units of work: one per ffmpeg, fpcalc and start-up run; per station, one at one rate, two at nine
    bar = Progress("measuring", REPEAT * (3 + 3 * sum(args.stations)), " units")
    dec_cpu, _, dec_rss, dec_anon = median_of(
        lambda: measure(["ffmpeg", "-v", "error", "-i", str(mp3), "-f", "null", "-"]), bar, "ffmpeg"
    )
    # fpcalc 1.5 exits 3 ("Error decoding audio frame (End of file)") after printing the
    # full fingerprint of a file read to its end with -length 0
    fp_cpu, _, fp_rss, fp_anon = median_of(
        lambda: measure(["fpcalc", "-length", "0", "-raw", str(mp3)], ok=(0, 3)), bar, "fpcalc"
    )
    # start-up cost of the agent itself (Python imports, SQLite, config), on a 3 s clip
    clip = Path(tempfile.gettempdir()) / "sodav-bench" / "clip3s.mp3"
    if not clip.exists():
        subprocess.run(
            ["ffmpeg", "-v", "error", "-y", "-t", "3", "-i", str(mp3), "-c", "copy", str(clip)], check=True
        )
    boot_cpu, _, boot_rss, boot_anon = median_of(lambda: run_agent_clip(clip), bar, "agent start-up")

    bar.clear()
    print()
    print(
        f"{'what':<34}{'CPU s/h audio':>14}{'× real time/core':>18}{'÷ ffmpeg decode':>17}"
        f"{'peak RSS MB':>13}{'anon MB':>9}"
    )
    print(
        f"{'ffmpeg -f null (decode only)':<34}{dec_cpu / hours:>14.1f}{audio_s / dec_cpu:>18.0f}{1.0:>17.2f}"
        f"{dec_rss / 1024:>13.1f}{dec_anon / 1024:>9.1f}"
    )
    print(
        f"{'fpcalc -length 0 (decode + FP)':<34}{fp_cpu / hours:>14.1f}{audio_s / fp_cpu:>18.0f}"
        f"{fp_cpu / dec_cpu:>17.2f}{fp_rss / 1024:>13.1f}{fp_anon / 1024:>9.1f}"
    )
    print(
        f"{'agent start-up (3 s clip)':<34}{'':>14}{'':>18}{'':>17}"
        f"{boot_rss / 1024:>13.1f}{boot_anon / 1024:>9.1f}"
        f"   ({boot_cpu:.2f} CPU s, subtracted below as 'net')"
    )
    for label, variants in (("1 rate", ONE), ("9 rates", SWEEP)):
        for n in args.stations:
            run = partial(run_agent, mp3, n, variants, args.excerpts)
            what = f"agent, {n} station(s), {label}"
            # a unit per station at one rate, two at nine
            cpu, wall, rss, anon = median_of(run, bar, what, n if variants is ONE else 2 * n)
            bar.clear()
            net = max(cpu - boot_cpu, 1e-6)
            per_station = net / n
            print(
                f"{f'agent {n} station(s), {label}':<34}{per_station / hours:>14.1f}"
                f"{audio_s / per_station:>18.0f}{per_station / dec_cpu:>17.2f}"
                f"{rss / 1024:>13.1f}{anon / 1024:>9.1f}"
                f"   (total {cpu:.1f} CPU s, wall {wall:.1f} s)"
            )
    bar.done()
    print()
    print("CPU s/h audio and × real time are per station, net of start-up; ÷ ffmpeg decode is the")
    print("agent's CPU per station over ffmpeg's CPU to decode the same file once. anon MB: peak")
    print("anonymous RSS (heap and buffers, without the mapped pages of shared libraries).")


def run_agent_clip(clip: Path) -> tuple[float, float, int, int]:
    agent = Path(sys.executable).with_name("sodav-agent")
    with tempfile.TemporaryDirectory(prefix="sodav-bench-agent-") as tmp:
        cfg = agent_config(Path(tmp), clip, 1, ONE, False)
        return measure([str(agent), "--config", str(cfg), "run"])


if __name__ == "__main__":
    main()
