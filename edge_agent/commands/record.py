"""``sodav-agent record STATION``: what the box hears from a station, as a WAV file.

The station's audio as the agent captures and fingerprints it (mono, ``fingerprint.
sample_rate``, 11,025 Hz by default), as a 16-bit WAV file. For a technician to listen to a
sound card's input (cable, level, the right channel) or a stream, beside ``check``'s level meter.

The file is written with the standard library's ``wave``: the PCM is already 16-bit mono, so
a WAV is a header and the samples. soundfile would do the same through libsndfile, but it
imports numpy, and the agent's package would then carry numpy (~35 MB) and a second bundled
libsndfile to every box, downloaded over the technicians' phone connections, for this one
command. The tests read the file back with soundfile, an independent reader.
"""

from __future__ import annotations

import argparse
import sys
import wave
from datetime import datetime
from pathlib import Path
from typing import Any

from edge_agent.capture.station import StationCapture
from edge_agent.config import load
from edge_agent.events import Event
from shared.pcm import Pcm


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("station", help="the station's slug, as in the configuration")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the recording (default 10)")
    parser.add_argument("-o", "--output", help="WAV file to write (default: STATION.wav here)")


class _WavSink:
    """Writes the first ``samples`` samples of the station's audio; notes why it stopped early."""

    def __init__(self, out: Any, samples: int) -> None:
        self.out = out
        self.wanted = samples
        self.written = 0
        self.levels: list[float] = []
        self.problem: str | None = None

    @property
    def done(self) -> bool:
        return self.written >= self.wanted or self.problem is not None

    def run_started(self, station: str, run_id: int, start: datetime) -> None:
        pass

    def audio(self, station: str, run_id: int, pcm: Pcm) -> None:
        take = min(pcm.samples, self.wanted - self.written)
        if take <= 0:
            return
        block = pcm if take == pcm.samples else Pcm.of(pcm.data[: 2 * take])
        self.out.writeframes(block.data)
        self.written += take
        self.levels.append(block.level_dbfs)

    def run_ended(self, station: str, run_id: int) -> None:
        pass

    def event(self, event: Event) -> None:
        if event.kind == "outage" and event.end is None:
            self.problem = f"{event.reason}: {event.detail}"


def run(args: argparse.Namespace) -> int:
    settings = load(args.config)
    stations = {s.slug: s for s in settings.stations}
    station = stations.get(args.station)
    if station is None:
        known = ", ".join(stations) or "none"
        print(
            f"sodav-agent record: no station {args.station!r} in the configuration; stations: {known}",
            file=sys.stderr,
        )
        return 2
    if args.seconds <= 0:
        print("sodav-agent record: --seconds must be more than 0", file=sys.stderr)
        return 2
    rate = settings.fingerprint.sample_rate
    out = Path(args.output or f"{station.slug}.wav")
    part = out.with_name(out.name + ".part")
    print(
        f"recording {station.slug} ({station.url or station.device or station.path}) for {args.seconds:g} s"
    )
    try:
        with wave.open(str(part), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            sink = _WavSink(wav, round(args.seconds * rate))
            capture = StationCapture(
                station.model_copy(update={"realtime": True}), rate, settings.health, sink
            )
            capture.listen(lambda: sink.done, timeout=args.seconds + 30)
    except (OSError, wave.Error) as exc:
        part.unlink(missing_ok=True)
        print(f"sodav-agent record: cannot write {out}: {exc}", file=sys.stderr)
        return 1
    if not sink.written:
        part.unlink(missing_ok=True)
        why = sink.problem or "no audio received"
        print(
            f"sodav-agent record: {station.slug}: {why}. Check the URL/device with `sodav-agent check "
            f"--station {station.slug}`",
            file=sys.stderr,
        )
        return 1
    part.replace(out)
    seconds = sink.written / rate
    print(f"{out}: {seconds:.1f} s of {station.slug}, mono {rate} Hz, loudest {max(sink.levels):.1f} dBFS")
    if sink.written < sink.wanted:
        print(f"  only {seconds:.1f} s: the source stopped ({sink.problem or 'no more audio'})")
    return 0
