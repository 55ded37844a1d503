"""Open a station's stream or file for PyAV: HTTP/ICY through our own reader, anything else
(HLS, RTMP, a file...) through FFmpeg's own I/O.

An Icecast/Shoutcast stream is read with httpx, ``Icy-MetaData: 1``: :class:`IcyStream`
strips the metadata blocks and reports each title (PyAV reads ICY titles only once, at
open). Whatever is opened here is closed by :meth:`Opened.close`, last opened first.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import av
import httpx

from edge_agent import tls
from edge_agent.capture.icy import IcyStream
from edge_agent.config import HealthSettings, SourceKind, StationSettings
from edge_agent.errors import SourceStalled, SourceUnreachable

__all__ = ["DEMUX_OPTIONS", "open_container"]

# FFmpeg keeps a seek index of every packet, up to 1 MiB per stream ("indexmem"): an MP3
# station fills it in ~20 min of audio, and the agent never seeks. Measured: the agent's
# memory grew by ~1 MB per station over its first half hour (bench/agent/live.py).
DEMUX_OPTIONS = {"indexmem": "4096"}


def open_container(
    station: StationSettings, health: HealthSettings, on_title: Callable[[str], None], stack: ExitStack
) -> Any:
    """The station's PyAV input container; what must be closed with it goes on ``stack``."""
    if station.kind == SourceKind.FILE:
        return stack.enter_context(av.open(str(station.path), options=DEMUX_OPTIONS))
    assert station.url
    if station.kind == SourceKind.HTTP:
        return stack.enter_context(
            av.open(_icy(station.url, health, on_title, stack), mode="r", options=DEMUX_OPTIONS)
        )
    stall_us = str(int(health.stall_seconds * 1e6))
    options = {**DEMUX_OPTIONS, "rw_timeout": stall_us, "timeout": stall_us}
    return stack.enter_context(av.open(station.url, options=options))


def _icy(url: str, health: HealthSettings, on_title: Callable[[str], None], stack: ExitStack) -> IcyStream:
    client = stack.enter_context(
        httpx.Client(
            timeout=httpx.Timeout(10.0, read=health.stall_seconds),
            follow_redirects=True,
            headers={"Icy-MetaData": "1", "User-Agent": "sodav-agent"},
            verify=tls.verify(),
        )
    )
    try:
        resp = client.send(client.build_request("GET", url), stream=True)
    except httpx.TimeoutException as exc:
        raise SourceUnreachable(f"{url}: timeout while connecting") from exc
    except httpx.HTTPError as exc:
        raise SourceUnreachable(f"{url}: {exc}") from exc
    stack.callback(resp.close)
    if resp.status_code >= 400:
        raise SourceUnreachable(f"{url}: HTTP {resp.status_code}")
    metaint = resp.headers.get("icy-metaint")

    def chunks() -> Iterator[bytes]:
        try:
            yield from resp.iter_raw(8192)
        except httpx.ReadTimeout as exc:
            raise SourceStalled(f"no data for {health.stall_seconds:.0f} s") from exc

    return IcyStream(chunks(), int(metaint) if metaint and metaint.isdigit() else None, on_title)
