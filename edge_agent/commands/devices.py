"""``sodav-agent devices``: the sound cards PortAudio can capture from."""

from __future__ import annotations

import argparse
import sys


def add_arguments(parser: argparse.ArgumentParser) -> None:
    pass


def run(args: argparse.Namespace) -> int:
    try:
        import sounddevice as sd
    except OSError as exc:
        print(
            f"sodav-agent: PortAudio is missing ({exc}); install it: apt-get install libportaudio2",
            file=sys.stderr,
        )
        return 2
    inputs = [(i, d) for i, d in enumerate(sd.query_devices()) if d["max_input_channels"] > 0]
    if not inputs:
        print("no capture device found: plug the USB sound card / receiver in, then check `arecord -l`")
        return 1
    print(f"{'INDEX':<6}{'NAME':<40}{'CHANNELS':<10}DEFAULT RATE")
    for i, d in inputs:
        print(f"{i:<6}{d['name'][:39]:<40}{d['max_input_channels']:<10}{int(d['default_samplerate'])}")
    print("\nuse the index or the name as `device = ...` in a [[stations]] entry")
    return 0
