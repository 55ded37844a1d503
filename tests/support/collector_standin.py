"""A collector stand-in that asks agents for excerpts: the protocol, before the collector does.

It answers ``/api/v1/heartbeats`` and ``/api/v1/uploads`` with the schema's acknowledgements,
carrying the excerpt requests the test queued (:meth:`CollectorStandin.ask`) until the agent
answers ``POST /api/v1/excerpts``; that answer is validated with :class:`shared.schemas.ExcerptV1`
and kept. Bodies are read as the collector reads them (gzip, JSON), over a real socket.
"""

from __future__ import annotations

import gzip
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import ValidationError

from shared.schemas import (
    ExcerptAckV1,
    ExcerptRequestV1,
    ExcerptV1,
    HeartbeatAckV1,
    HeartbeatV1,
    UploadAckV1,
    UploadV1,
)

__all__ = ["CollectorStandin"]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding") == "gzip":
            raw = gzip.decompress(raw)
        if self.headers.get("Authorization") != f"Bearer {self.server.owner.token}":
            self._json(401, {"code": 5, "error": "INVALID_TOKEN", "message": "unknown token", "details": []})
            return
        owner = self.server.owner
        try:
            if self.path == "/api/v1/heartbeats":
                HeartbeatV1.model_validate_json(raw)
                owner.heartbeats += 1
                ack = HeartbeatAckV1(received_at=datetime.now(UTC)).model_dump(mode="json")
                self._json(200, {**ack, "excerpts": owner.asking()})
            elif self.path == "/api/v1/uploads":
                up = UploadV1.model_validate_json(raw)
                ack_u = UploadAckV1(
                    batch_id=up.batch_id,
                    accepted_segments=len(up.segments),
                    duplicate_segments=0,
                    accepted_events=len(up.events),
                    duplicate_events=0,
                )
                self._json(200, {**ack_u.model_dump(mode="json"), "excerpts": owner.asking()})
            elif self.path == "/api/v1/excerpts":
                answer = ExcerptV1.model_validate_json(raw)
                stored = owner.answered(answer)
                if stored is None:
                    self._json(
                        404, {"code": 12, "error": "NOT_FOUND", "message": "no such request", "details": []}
                    )
                    return
                self._json(200, ExcerptAckV1(request=answer.request, stored=stored).model_dump(mode="json"))
            else:
                self._json(404, {"code": 12, "error": "NOT_FOUND", "message": self.path, "details": []})
        except ValidationError as exc:
            owner.invalid.append(str(exc))
            self._json(
                422, {"code": 1, "error": "MALFORMED_PAYLOAD", "message": str(exc)[:200], "details": []}
            )


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: CollectorStandin


class CollectorStandin:
    def __init__(self, token: str) -> None:
        self.token = token
        self.pending: dict[str, dict[str, Any]] = {}  # id -> request as sent (raw, may be malformed)
        self.answers: dict[str, list[ExcerptV1]] = {}
        self.heartbeats = 0
        self.invalid: list[str] = []
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.owner = self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def ask(self, request: ExcerptRequestV1 | dict[str, Any]) -> None:
        """Queue a request; a dict is sent as it is (a malformed one, to test the agent)."""
        body = request.model_dump(mode="json") if isinstance(request, ExcerptRequestV1) else request
        with self._lock:
            self.pending[str(body["id"])] = body

    def asking(self) -> list[Any]:
        with self._lock:
            return list(self.pending.values())

    def answered(self, answer: ExcerptV1) -> bool | None:
        with self._lock:
            if answer.request not in self.pending and answer.request not in self.answers:
                return None
            self.answers.setdefault(answer.request, []).append(answer)
            return self.pending.pop(answer.request, None) is not None

    def __enter__(self) -> CollectorStandin:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
