"""One TLS context for every HTTPS connection the agent opens.

httpx builds a new SSL context for every client, parsing its ~140 CA certificates each time:
~0.8 MB of memory per client (measured). The agent holds one client for the collector and one
per HTTP station while it is connected: with 4 Icecast stations, five copies of the same
certificates on a small box. They all share this one, which httpx builds the way it builds
its own (certifi's bundle, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` when set).
"""

from __future__ import annotations

import functools
import ssl

import httpx

__all__ = ["verify"]


@functools.cache
def _context(check: bool) -> ssl.SSLContext:
    return httpx.create_ssl_context(verify=check)


def verify(check: bool = True) -> ssl.SSLContext:
    """The shared context for ``httpx.Client(verify=...)``; ``check=False`` skips verification."""
    return _context(check)
