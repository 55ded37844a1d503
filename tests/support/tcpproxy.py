"""A TCP proxy on 127.0.0.1 whose link a test can cut and restore, like a flaky phone uplink.

The proxy runs its own asyncio loop in a thread. :meth:`TcpProxy.cut` aborts every open
connection, then either resets every new one (``mode="reset"``: the peer sees the
connection closed at once) or accepts and holds it without a byte in either direction
(``mode="blackhole"``: the peer only gets its own timeout). :meth:`TcpProxy.restore`
forwards again. ``connections`` counts what was accepted, ``refused`` what was dropped.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Literal

Mode = Literal["reset", "blackhole"]


class TcpProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self.refused = 0
        self._cut: Mode | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="tcpproxy", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> TcpProxy:
        self._thread.start()
        self._server = self._call(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def _call(self, coro):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(10)

    def cut(self, mode: Mode = "reset") -> None:
        async def _cut() -> None:
            self._cut = mode
            for w in list(self._writers):
                w.transport.abort()
            self._writers.clear()

        self._call(_cut())

    def restore(self) -> None:
        async def _restore() -> None:
            self._cut = None
            for w in list(self._writers):  # held blackholed connections: drop them now
                w.transport.abort()
            self._writers.clear()

        self._call(_restore())

    def close(self) -> None:
        async def _close() -> None:
            if self._server is not None:
                self._server.close()
            for w in list(self._writers):
                w.transport.abort()

        if self._thread.is_alive():
            self._call(_close())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._cut == "reset":
            self.refused += 1
            writer.transport.abort()
            return
        if self._cut == "blackhole":
            self.refused += 1
            self._writers.add(writer)  # held open, silent, until restore()
            return
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self._writers.update((writer, up_writer))

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, asyncio.CancelledError):
                while data := await src.read(65536):
                    if self._cut:
                        break
                    dst.write(data)
                    await dst.drain()
            dst.transport.abort() if self._cut else dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers.discard(writer)
        self._writers.discard(up_writer)

    def __enter__(self) -> TcpProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
