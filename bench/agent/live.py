"""Edge agent memory as deployed: live HTTP stations, uploads to a real collector.

bench/agent/run.py measures the issue's benchmark (file stations replayed as fast as the CPU
allows). Here each station is a live 128 kbit/s MP3 stream over HTTP (``ffmpeg -re ... -listen
1``, one per station, on 127.0.0.1), read through the agent's HTTP source (httpx, ICY reader,
PyAV), and the agent uploads to a real collector (``sodav-collector serve``, SQLite) with
heartbeats, as a box in the field does. The agent's RSS is sampled every second (``VmRSS``,
``VmHWM``, ``RssAnon`` from /proc).

    .venv/bin/python bench/agent/live.py [--stations 4] [--seconds 150] [--files] [--no-upload]
                                         [--excerpts]
    .venv/bin/python bench/agent/live.py --smoke   # seconds: 1 live station for 6 s

``--files`` replaces the streams by the same MP3 read as a file in real time (``realtime =
true``); ``--no-upload`` leaves the collector out: together they tell which part of the agent
a change in memory comes from. ``--excerpts`` keeps proof-of-play excerpts, as the default
configuration does (``excerpt_hours = 48``); without it they are off.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.agent.run import Collector, free_port, proc_status
from bench.music import broadcast_mp3
from shared.progress import Progress


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stations", type=int, default=4)
    ap.add_argument("--seconds", type=int, default=150, help="how long the agent runs")
    ap.add_argument("--files", action="store_true", help="file stations in real time, not HTTP streams")
    ap.add_argument("--no-upload", action="store_true", help="no collector: buffer only")
    ap.add_argument("--excerpts", action="store_true", help="keep Opus excerpts (the default config)")
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    args = ap.parse_args()
    minutes, every = 15.0, 15  # a sample line every `every` seconds
    if args.smoke:
        minutes, every, args.stations, args.seconds = 1.0, 2, 1, 6
    mp3 = broadcast_mp3(minutes)
    procs: list[subprocess.Popen[bytes]] = []
    with tempfile.TemporaryDirectory(prefix="sodav-bench-live-") as tmp:
        work = Path(tmp)
        (work / "collector").mkdir()
        (work / "agent").mkdir()
        collector = None if args.no_upload else Collector(work / "collector", args.stations)
        try:
            sources = []
            for _ in range(args.stations):
                if args.files:
                    sources.append(f'path = "{mp3}"\nrealtime = true')
                    continue
                url = f"http://127.0.0.1:{free_port()}/live.mp3"
                stream = ["ffmpeg", "-v", "quiet", "-re", "-i", str(mp3), "-c", "copy", "-f", "mp3"]
                procs.append(subprocess.Popen([*stream, "-listen", "1", url]))
                sources.append(f'url = "{url}"')
            time.sleep(1)
            lines = [f'data_dir = "{work / "agent" / "data"}"']
            if collector is not None:
                name, section = collector.enroll(work / "agent", args.stations)
                lines = [f'name = "{name}"', *lines, *section]
            lines += ["[buffer]", f"excerpt_hours = {48 if args.excerpts else 0}"]
            for i, source in enumerate(sources):
                lines += ["[[stations]]", f'slug = "st{i}"', source, "rate_variants_ppm = [0]"]
            cfg = work / "agent.toml"
            cfg.write_text("\n".join(lines) + "\n")
            agent_bin = Path(sys.executable).with_name("sodav-agent")
            with (work / "agent.log").open("wb") as log:
                agent = subprocess.Popen([str(agent_bin), "--config", str(cfg), "run"], stderr=log)
                procs.append(agent)
                what = "file stations in real time" if args.files else "live HTTP stations"
                where = f"uploads to {collector.url}" if collector else "no uploads"
                print(f"{args.stations} {what}, {where}; agent RSS (MB):", flush=True)
                last: dict[str, int] = {}
                bar = Progress("running the agent", args.seconds, " s")
                for t in range(1, args.seconds + 1):
                    bar.update(t - 1)
                    time.sleep(1)
                    if agent.poll() is not None:
                        raise SystemExit(f"the agent stopped: {(work / 'agent.log').read_text()[-1500:]}")
                    last = proc_status(agent.pid)
                    if t % every == 0:
                        bar.clear()
                        print(
                            f"  {t:>4} s  RSS {last['VmRSS'] / 1024:5.1f}  anon {last['RssAnon'] / 1024:5.1f}"
                            f"  peak {last['VmHWM'] / 1024:5.1f}",
                            flush=True,
                        )
                bar.done()
            received = f"; segments received by the collector: {collector.segments()}" if collector else ""
            print(f"peak RSS {last['VmHWM'] / 1024:.1f} MB over {args.seconds} s{received}")
        finally:
            for proc in procs:
                proc.terminate()
                proc.wait(30)
            if collector is not None:
                collector.close()


if __name__ == "__main__":
    main()
