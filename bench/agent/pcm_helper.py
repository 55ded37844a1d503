"""What the PCM helper (libsodavpcm.so, packaging/pcm/pcm.c) saves per 0.25 s block.

    .venv/bin/python bench/agent/pcm_helper.py [--repeat 2000]   # about 2 s
    .venv/bin/python bench/agent/pcm_helper.py --smoke           # 20 calls each

Per block as the agent passes them (0.25 s): the level meter's sum of squares over 2,756
mono int16 samples at 11,025 Hz, in C and in the Python fallback the agent uses without the
helper; and the stereo mixdown of a 44.1 kHz block (11,025 float32 samples per channel), in C
and in Python done the same way (float32 products, then their sum), which the agent does
not use: without the helper it lets FFmpeg's graph mix, in more memory.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from array import array
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from shared import pcm


def python_mix(left: bytes, right: bytes) -> bytes:
    lf, rf = array("f"), array("f")
    lf.frombytes(left)
    rf.frombytes(right)
    k = array("f", [math.sqrt(0.5)])[0]
    lf = array("f", [a * k for a in lf])
    rf = array("f", [b * k for b in rf])
    return array("f", [a + b for a, b in zip(lf, rf, strict=True)]).tobytes()


def per_call_us(fn: Callable[[], object], repeat: int) -> float:
    t = time.process_time()
    for _ in range(repeat):
        fn()
    return (time.process_time() - t) / repeat * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=2000)
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs")
    args = ap.parse_args()
    if args.smoke:
        args.repeat = 20
    rng = random.Random(1)
    s16 = array("h", [rng.randint(-20000, 20000) for _ in range(2756)]).tobytes()
    left = array("f", [rng.uniform(-1, 1) for _ in range(11025)]).tobytes()
    right = array("f", [rng.uniform(-1, 1) for _ in range(11025)]).tobytes()
    if pcm.mix_stereo is None:
        raise SystemExit(f"{pcm.HELPER} is not built: run ./dev setup")
    mix = pcm.mix_stereo
    assert mix(left, right) == python_mix(left, right)  # the same floats
    rows = [
        ("sum of squares, 2,756 int16, C", per_call_us(lambda: pcm.sum_squares(s16), args.repeat)),
        ("sum of squares, Python fallback", per_call_us(lambda: pcm._python_sum_squares(s16), args.repeat)),
        ("stereo mixdown, 2 x 11,025 float32, C", per_call_us(lambda: mix(left, right), args.repeat)),
        ("stereo mixdown, in Python", per_call_us(lambda: python_mix(left, right), args.repeat // 10)),
    ]
    print(f"{'per 0.25 s block':<40}{'µs':>10}{'CPU s per station-hour':>26}")
    for name, us in rows:
        print(f"{name:<40}{us:>10.1f}{us * 4 * 3600 / 1e6:>26.2f}")


if __name__ == "__main__":
    main()
