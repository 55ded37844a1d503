"""Agent outbox throughput: durable adds and batch read + ack, SQLite WAL, synchronous=FULL.

Rows are real segments (10 s, SFP1 blobs) of a wesnoth track, one rate variant and the
9-variant sweep. Each ``add_segment`` is its own transaction that returns only after
fdatasync, as in the agent; the reader takes batches of 500 (the uploader's default) and
acknowledges them (DELETE). The database lives in ``--dir`` (default: a temporary
directory on the disk of /var/tmp), so the figure is this disk's fsync rate.

    .venv/bin/python bench/outbox/run.py [--rows 2000] [--dir /var/lib/sodav-agent]
    .venv/bin/python bench/outbox/run.py --smoke     # seconds: 100 rows of 1 min of audio
"""

from __future__ import annotations

import argparse
import base64
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.music import broadcast_mp3, real_segments
from edge_agent.buffer.outbox import Outbox
from shared.codec import encode
from shared.progress import Progress

SWEEP = [-40000, -30000, -20000, -10000, 0, 10000, 20000, 30000, 40000]


def bench(root: Path, segments: list, rows: int, label: str) -> tuple[float, float, int]:
    blobs = [[base64.b64encode(encode(fp)).decode() for fp in s.fingerprints] for s in segments]
    with tempfile.TemporaryDirectory(dir=root, prefix="sodav-bench-outbox-") as tmp:
        box = Outbox(Path(tmp) / "outbox.sqlite")
        bar = Progress(f"adding {label} segments", rows)
        t0 = time.perf_counter()
        for i in range(rows):
            if i % 50 == 0:
                bar.update(i)
            s = segments[i % len(segments)]
            box.add_segment("st0", s.start, s.duration, s.level_dbfs, blobs[i % len(blobs)])
        add_rate = rows / (time.perf_counter() - t0)
        bar.done()
        t0 = time.perf_counter()
        done = 0
        while True:
            batch = box.next_batch(500, 10_000_000)
            if not batch:
                break
            box.ack(batch)
            done += len(batch.segment_ids)
        ack_rate = done / (time.perf_counter() - t0)
        assert done == rows, (done, rows)
        size = sum(len(x) for b in blobs for x in b) // len(blobs)
        box.close()
    return add_rate, ack_rate, size


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--dir", type=Path, default=Path("/var/tmp"))
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    args = ap.parse_args()
    minutes, seconds = 15.0, 300
    if args.smoke:
        minutes, seconds, args.rows = 1.0, 60, 100
    mp3 = broadcast_mp3(minutes)
    print(f"outbox in {args.dir}, {args.rows} segments per run, synchronous=FULL, WAL")
    print(f"{'segments':<22}{'payload B':>10}{'add rows/s':>12}{'read+ack rows/s':>17}{'station-days/h':>16}")
    for label, variants in (("1 rate variant", [0]), ("9 rate variants", SWEEP)):
        segs = real_segments(mp3, variants, seconds=seconds)
        add, ack, size = bench(args.dir, segs, args.rows, label)
        # one station writes 8640 segments a day
        print(f"{label:<22}{size:>10}{add:>12.0f}{ack:>17.0f}{add * 3600 / 8640:>16.0f}")
    print("payload B: base64 fingerprint blobs of one segment; station-days/h: how many")
    print("station-days of segments the outbox can absorb in an hour of writing.")


if __name__ == "__main__":
    main()
