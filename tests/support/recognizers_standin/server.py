"""One HTTP server on 127.0.0.1 that answers as AudD (``/``) and AcoustID (``/v2/lookup``).

A real socket and real HTTP/1.1 (keep-alive, gzip request bodies, multipart), so the
collector's clients run exactly as against the services; point ``recognizers.audd_url`` at
``<base>/`` and ``recognizers.acoustid_url`` at ``<base>/v2/lookup``. Tests switch faults
on with :meth:`Standin.fault`; every request is recorded (:attr:`Standin.requests`) with
what it carried, so a test can check what left the collector.

Faults, per service, for the next ``times`` requests (``None``: until :meth:`clear_faults`):

    slow         answer after ``seconds``
    drop         read the request, close the connection without an answer
    http429      HTTP 429 (AudD: empty JSON; AcoustID: its error 14 body), ``retry_after`` if given
    http503      HTTP 503 (AcoustID: error 13, service unavailable; AudD: an HTML page)
    quota        AudD 902, the token's limit reached (also: ``audd_quota`` requests, then 902)
    invalid_key  AudD 900, AcoustID 4
    error        the service's error ``code`` (AudD HTTP 200, AcoustID HTTP 400)
"""

from __future__ import annotations

import email.parser
import email.policy
import gzip
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.recognizers_standin import acoustid, audd
from tests.support.recognizers_standin.references import References

__all__ = ["Fault", "Recorded", "Standin"]

SERVICES = ("audd", "acoustid")


@dataclass
class Fault:
    kind: str
    times: int | None = 1
    seconds: float = 0.0
    retry_after: str | None = None
    code: int | None = None


@dataclass
class Recorded:
    service: str
    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]  # query and form fields (AudD's audio file apart)
    body: bytes  # as received (gzip-compressed if it was)
    form_body: bytes = b""  # decompressed urlencoded body, if any
    file_name: str | None = None
    file_bytes: bytes = b""
    audio_seconds: float | None = None  # AudD: how long the audio it received was
    answer: str = ""  # what the stand-in did: named, not_found, error 900, fault drop, ...


@dataclass
class _State:
    refs: References
    audd_tokens: set[str]
    acoustid_keys: set[str]
    audd_quota: int | None
    acoustid_rate: float | None
    faults: dict[str, deque[Fault]] = field(default_factory=lambda: {s: deque() for s in SERVICES})
    requests: list[Recorded] = field(default_factory=list)
    acoustid_times: deque[float] = field(default_factory=lambda: deque(maxlen=64))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take_fault(self, service: str) -> Fault | None:
        with self.lock:
            queue = self.faults[service]
            if not queue:
                return None
            fault = queue[0]
            if fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    queue.popleft()
            return fault


def _multipart(content_type: str, body: bytes) -> tuple[dict[str, str], tuple[str, bytes] | None]:
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    fields: dict[str, str] = {}
    file: tuple[str, bytes] | None = None
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if not isinstance(name, str):
            continue
        filename = part.get_filename()
        if name == "file" and filename is not None:
            file = (filename, payload)
        else:
            fields[name] = payload.decode("utf-8", "replace")
    return fields, file


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def _reply(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, obj: object, status: int = 200, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, ensure_ascii=False).encode("utf-8")
        self._reply(status, body, "application/json; charset=utf-8", headers)

    def _handle(self, method: str) -> None:
        state = self.server.state
        url = urlsplit(self.path)
        service = "acoustid" if url.path.rstrip("/") == "/v2/lookup" else "audd" if url.path == "/" else None
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        rec = Recorded(
            service or "none", method, url.path, dict(self.headers.items()), dict(parse_qsl(url.query)), raw
        )
        with state.lock:
            state.requests.append(rec)
        if service is None:
            rec.answer = "404"
            self._reply(404, b"<html><body>Not Found</body></html>", "text/html")
            return
        body = raw
        if self.headers.get("Content-Encoding", "").lower().strip() == "gzip":
            try:
                body = gzip.decompress(raw)
            except (OSError, EOFError):
                rec.answer = "400 bad gzip"
                self._reply(400, b"<html><body>Bad Request</body></html>", "text/html")
                return
        ctype = self.headers.get("Content-Type", "")
        file: tuple[str, bytes] | None = None
        if ctype.startswith("multipart/form-data"):
            fields, file = _multipart(ctype, body)
            rec.params.update(fields)
        elif body:
            rec.form_body = body
            rec.params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        if file is not None:
            rec.file_name, rec.file_bytes = file
        fault = state.take_fault(service)
        if fault is not None:
            rec.answer = f"fault {fault.kind}"
            if fault.kind == "slow":
                time.sleep(fault.seconds)
            elif self._fault(service, fault, rec, method):
                return
        if service == "acoustid":
            self._acoustid(rec)
        else:
            self._audd(rec, method)

    def _fault(self, service: str, fault: Fault, rec: Recorded, method: str) -> bool:
        """Answer (or drop) as ``fault`` says; False for faults that only delay."""
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        if fault.kind == "drop":
            self.close_connection = True
            self.connection.shutdown(2)
            return True
        if fault.kind == "http429":
            body = (
                acoustid.error_body(14, acoustid.too_many_requests().message) if service == "acoustid" else {}
            )
            self._json(body, 429, headers)
            return True
        if fault.kind == "http503":
            if service == "acoustid":
                self._json(
                    acoustid.error_body(13, "service currently unavailable, try again later"), 503, headers
                )
            else:
                self._reply(503, b"<html><body>503 Service Unavailable</body></html>", "text/html", headers)
            return True
        code = {"quota": 902, "invalid_key": 900 if service == "audd" else 4}.get(fault.kind, fault.code)
        if code is None:
            return False
        if service == "audd":
            self._json(
                audd.error_body(code, audd.MESSAGES.get(code, "Recognition failed"), rec.params, method)
            )
        else:
            status = 500 if code == 5 else 503 if code == 13 else 429 if code == 14 else 400
            self._json(acoustid.error_body(code, "invalid API key" if code == 4 else f"error {code}"), status)
        return True

    def _acoustid(self, rec: Recorded) -> None:
        state = self.server.state
        try:
            if state.acoustid_rate is not None:
                now = time.monotonic()
                with state.lock:
                    recent = [t for t in state.acoustid_times if now - t < 1.0]
                    state.acoustid_times.append(now)
                if len(recent) >= state.acoustid_rate:
                    raise acoustid.too_many_requests(state.acoustid_rate)
            answer = acoustid.lookup(state.refs, rec.params, state.acoustid_keys)
        except acoustid.LookupError_ as exc:
            rec.answer = f"error {exc.code}"
            self._json(acoustid.error_body(exc.code, exc.message), exc.status)
            return
        rec.answer = "named" if answer["results"] else "not_found"
        self._json(answer)

    def _audd(self, rec: Recorded, method: str) -> None:
        state = self.server.state
        params = rec.params
        try:
            token = params.get("api_token", "")
            if not token:
                raise audd.AudDError(901)
            if token not in state.audd_tokens:
                raise audd.AudDError(900)
            with state.lock:
                if state.audd_quota is not None:
                    if state.audd_quota <= 0:
                        raise audd.AudDError(902)
                    state.audd_quota -= 1
            found = audd.identify(state.refs, audd.audio_bytes(params, rec.file_bytes or None))
        except audd.AudDError as exc:
            rec.answer = f"error {exc.code}"
            self._json(audd.error_body(exc.code, str(exc), params, method))
            return
        if found is None:
            rec.answer = "not_found"
            self._json({"status": "success", "result": None})
            return
        ref, offset, rec.audio_seconds = found
        wanted = {w.strip() for w in params.get("return", "").split(",") if w.strip()}
        rec.answer = "named"
        self._json({"status": "success", "result": audd.result(ref, offset, wanted)})


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class Standin:
    """The stand-in, serving in a background thread until :meth:`stop`."""

    def __init__(
        self,
        refs: References,
        audd_tokens: set[str] | None = None,
        acoustid_keys: set[str] | None = None,
        audd_quota: int | None = None,
        acoustid_rate: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.state = _State(
            refs,
            audd_tokens if audd_tokens is not None else {"audd-test-token"},
            acoustid_keys if acoustid_keys is not None else {"acoustid-test-key"},
            audd_quota,
            acoustid_rate,
        )
        self._thread: threading.Thread | None = None

    @property
    def state(self) -> _State:
        return self._server.state

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def audd_url(self) -> str:
        return self.base_url + "/"

    @property
    def acoustid_url(self) -> str:
        return self.base_url + "/v2/lookup"

    @property
    def requests(self) -> list[Recorded]:
        with self.state.lock:
            return list(self.state.requests)

    def set_audd_quota(self, remaining: int | None) -> None:
        with self.state.lock:
            self.state.audd_quota = remaining

    def fault(self, service: str, kind: str, times: int | None = 1, **params: Any) -> None:
        assert service in SERVICES, service
        with self.state.lock:
            self.state.faults[service].append(Fault(kind, times, **params))

    def clear_faults(self) -> None:
        with self.state.lock:
            for queue in self.state.faults.values():
                queue.clear()

    def start(self) -> Standin:
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="recognizers-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> Standin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
