"""A sound card through PortAudio (``sounddevice``): blocks of mono int16 at the card's rate.

PortAudio calls back from its own thread with each block; the block waits in a bounded
queue (20 s) for the station's capture thread. When a channel is chosen, only that channel
is kept; otherwise the card is opened mono. ``sounddevice`` is imported on first use: a box
without sound-card stations never loads PortAudio.
"""

from __future__ import annotations

import logging
import queue
import threading
from array import array
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from edge_agent.config import StationSettings
from edge_agent.errors import DeviceError, SourceStalled

__all__ = ["SoundcardInput"]

log = logging.getLogger("edge_agent.capture")


class SoundcardInput:
    """``with SoundcardInput(station, stall_s) as card: for block in card.blocks(stop): ...``"""

    def __init__(self, station: StationSettings, stall_seconds: float) -> None:
        self.station = station
        self.rate = station.device_sample_rate
        self.stall_seconds = stall_seconds
        self.channels = station.channel or 1  # the channel asked for is the last one opened
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=200)
        self._stream: Any = None

    def _callback(self, indata: Any, _frames: int, _time: Any, status: Any) -> None:
        if status:
            log.debug("station=%s portaudio status %s", self.station.slug, status)
        data = bytes(indata)  # interleaved int16, ``channels`` per frame
        if self.channels > 1:
            samples = array("h")
            samples.frombytes(data)
            data = samples[self.channels - 1 :: self.channels].tobytes()
        try:
            self._queue.put_nowait(data)
        except queue.Full:
            pass

    def __enter__(self) -> SoundcardInput:
        import sounddevice as sd  # PortAudio: only boxes with a sound-card station load it

        st = self.station
        try:
            self._stream = sd.RawInputStream(
                device=st.device,
                channels=self.channels,
                samplerate=self.rate,
                dtype="int16",
                callback=self._callback,
                blocksize=self.rate // 10,
            )
        except (sd.PortAudioError, ValueError) as exc:
            raise DeviceError(f"sound card {st.device!r}: {exc}; see `sodav-agent devices`") from exc
        self._stream.__enter__()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stream.__exit__(kind, exc, tb)

    def blocks(self, stop: threading.Event) -> Iterator[bytes]:
        """The card's blocks as they come, until ``stop``; raises SourceStalled when none comes."""
        while not stop.is_set():
            try:
                block = self._queue.get(timeout=self.stall_seconds)
            except queue.Empty as exc:
                raise SourceStalled(f"sound card gave no audio for {self.stall_seconds:.0f} s") from exc
            if block:
                yield block
