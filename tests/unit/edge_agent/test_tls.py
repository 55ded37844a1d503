"""The agent's one shared TLS context verifies certificates like httpx's own, on a real server."""

from __future__ import annotations

import http.server
import ssl
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

CLIENT = (
    "import sys, httpx\n"
    "from edge_agent import tls\n"
    "assert tls.verify() is tls.verify()  # one context, however many clients\n"
    "try:\n"
    "    print(httpx.get(sys.argv[1], verify=tls.verify(), timeout=5).text)\n"
    "except httpx.ConnectError as exc:\n"
    "    print('refused:', exc)\n"
)


@pytest.fixture
def https_url(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"hello over tls")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"https://127.0.0.1:{server.server_address[1]}/", cert
    server.shutdown()
    server.server_close()


def client(url: str, **env: str) -> str:
    out = subprocess.run(
        [sys.executable, "-c", CLIENT, url],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", **env},
    )
    return out.stdout.strip()


def test_shared_context_trusts_what_it_should(https_url: tuple[str, Path]) -> None:
    url, cert = https_url
    assert client(url, SSL_CERT_FILE=str(cert)) == "hello over tls"  # the site's CA, as ops set it
    refused = client(url)  # certifi's bundle does not know this self-signed certificate
    assert refused.startswith("refused:") and "CERTIFICATE_VERIFY_FAILED" in refused
