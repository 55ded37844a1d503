"""A webhook receiver on 127.0.0.1 that records what it gets and answers as told.

``Receiver.answers`` is a list consumed one request at a time: an HTTP status, or ``"hang"``
(hold the request until the receiver closes); when empty, every request gets 200.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    path: str
    headers: Message
    body: bytes


@dataclass
class Receiver:
    answers: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hanging: int = 0

    def __post_init__(self) -> None:
        self.release = threading.Event()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.received.append(Received(self.path, self.headers, body))
                    answer = receiver.answers.pop(0) if receiver.answers else 200
                    if answer == "hang":
                        receiver.hanging += 1
                if answer == "hang":
                    receiver.release.wait(120)
                    answer = 200
                self.send_response(int(answer))
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/sodav"

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
