"""``sodav-agent fingerprint FILE``: what Chromaprint sees in a file."""

from __future__ import annotations

import argparse
import json
import sys

from shared.audio import AudioError, file_pcm
from shared.chroma import CHROMAPRINT_RATE, compressed, fingerprint_values
from shared.pcm import Pcm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file")
    parser.add_argument("--raw", action="store_true", help="raw 32-bit values instead of the compressed form")
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--rate-variant",
        type=float,
        default=0.0,
        metavar="PERCENT",
        help="undo a playback speed change, e.g. 2 for a station playing 2 %% fast",
    )


def run(args: argparse.Namespace) -> int:
    try:
        parts = list(file_pcm(args.file, CHROMAPRINT_RATE))  # as the agent's capture converts it
    except AudioError as exc:
        print(f"sodav-agent: cannot decode {exc}", file=sys.stderr)
        return 2
    pcm = Pcm.join(parts)
    values = fingerprint_values(pcm, CHROMAPRINT_RATE, round(args.rate_variant * 1e4))
    duration = pcm.samples / CHROMAPRINT_RATE
    if args.raw:
        fp = ",".join(str(int(v)) for v in values)
    else:
        fp = compressed(values)
    if args.json:
        print(
            json.dumps(
                {
                    "file": args.file,
                    "duration": round(duration, 3),
                    "values": len(values),
                    "fingerprint": fp,
                }
            )
        )
    else:
        print(f"FILE={args.file}\nDURATION={duration:.3f}\nVALUES={len(values)}\nFINGERPRINT={fp}")
    return 0
