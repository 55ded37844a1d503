"""AcoustID lookups: a broadcast fingerprint in, MusicBrainz candidates out.

The request is pyacoustid's ``acoustid.lookup`` (the design's package) byte for byte:
the same form fields in the same order (``format=json``, ``client``, ``duration`` as an
integer, ``fingerprint`` in Chromaprint's compressed base64, encoded by pyacoustid's
``chromaprint.encode_fingerprint`` through :func:`shared.chroma.compressed`, and
``meta=recordings+releasegroups+compress``), POSTed gzip-compressed with
``Content-Encoding: gzip`` as the web service asks (acoustid.org/webservice, "Compression").
The HTTP goes through httpx rather than pyacoustid's own requests session for three
reasons a paid pipeline cannot give up: pyacoustid gzips only ``http://`` URLs (its adapter
is mounted on ``http://`` alone, and the real service is ``https://``), it drops the HTTP
status and ``Retry-After`` (a 429 and a captive portal look alike), and it folds timeouts and
refused connections into one error. ``tests/unit/collector/recognizers`` checks that the
body is the one ``acoustid.lookup`` sends.

AcoustID is built for whole files: ``duration`` is "the duration of the whole audio file"
and the server only compares fingerprints whose length is within ``maxdurationdiff``
(default 7 s) of it (acoustid-server ``const.FINGERPRINT_MAX_LENGTH_DIFF``). A stretch of a
broadcast is named only when it is (nearly) the whole song, from its start.

Rate: at most 3 requests per second (acoustid.org/webservice, "Rate limiting"; pyacoustid's
``REQUEST_INTERVAL``), enforced across processes by :mod:`collector.recognizers.gate`.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import SecretStr

from collector.recognizers.outcomes import Candidate, Named, NotFound, Outcome, Park, RetryLater, Stop
from collector.recognizers.transport import USER_AGENT, body_or_outcome, retry_at, send
from shared.chroma import compressed

__all__ = ["META", "AcoustID", "lookup_body"]

META = "recordings releasegroups compress"  # sent as meta=recordings+releasegroups+compress
SERVICE = "AcoustID"

# acoustid-server acoustid/api/errors.py: the code on the wire -> what it means for us
_STOP = {
    4: "invalid API key: check recognizers.acoustid_key_file",
    6: "invalid user API key",
    12: "not allowed for this API key",
    15: "invalid MusicBrainz access token",
    16: "insecure request refused: use an https:// recognizers.acoustid_url",
    17: "unknown application: check recognizers.acoustid_key_file",
}
_RETRY = {5: "internal error", 13: "service unavailable", 14: "too many requests"}
_PARK = {
    1: "unknown format",
    2: "missing parameter",
    3: "invalid fingerprint",
    7: "invalid UUID",
    8: "invalid duration",
    9: "invalid bitrate",
    10: "invalid foreign id",
    11: "invalid maxdurationdiff",
    19: "request too large",
}
_NOT_FOUND = {18: "fingerprint not found"}


def lookup_body(key: str, values: Sequence[int], duration_s: float) -> bytes:
    """The form pyacoustid's ``lookup`` sends, urlencoded (before gzip)."""
    params = {
        "format": "json",
        "client": key,
        "duration": int(duration_s),
        "fingerprint": compressed(values),  # type: ignore[arg-type]
        "meta": META,
    }
    return urlencode(params).encode()


class AcoustID:
    def __init__(
        self, url: str, key: SecretStr, timeout_s: float = 30.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url
        self._key = key
        self._client = httpx.Client(
            timeout=timeout_s, transport=transport, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AcoustID:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lookup(self, values: Sequence[int], duration_s: float) -> Outcome:
        """Ask AcoustID about raw Chromaprint ``values`` of ``duration_s`` seconds of audio."""
        if len(values) == 0 or duration_s < 1:
            return Park("no fingerprint to look up (empty, or under one second)")
        body = gzip.compress(lookup_body(self._key.get_secret_value(), values, duration_s))
        request = self._client.build_request(
            "POST",
            self.url,
            content=body,
            headers={
                "Accept-Encoding": "gzip",
                "Content-Type": "application/x-www-form-urlencoded",
                "Content-Encoding": "gzip",
            },
        )
        resp = send(self._client, SERVICE, request)
        if isinstance(resp, RetryLater):
            return resp
        return answer(resp)


def answer(resp: httpx.Response) -> Outcome:
    """The outcome of AcoustID's HTTP answer."""
    body = body_or_outcome(
        resp, SERVICE, "recognizers.acoustid_url", "https://api.acoustid.org/v2/lookup", wait_429_s=1.0
    )
    if not isinstance(body, dict):
        return body
    if body.get("status") == "ok":
        return _results(body.get("results") or [])
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    code = error.get("code")
    said = f"{SERVICE} error {code}: {error.get('message', 'no message')}"
    if code in _STOP:
        return Stop(f"{said} ({_STOP[code]})")
    if code in _RETRY:
        return RetryLater(said, retry_at(resp, 1.0 if code == 14 else 60.0))
    if code in _PARK:
        return Park(said)
    if code in _NOT_FOUND:
        return NotFound(said)
    if resp.status_code >= 500:
        return RetryLater(said, retry_at(resp, 60.0))
    return Park(said)


def _artists(credits: list[dict[str, Any]] | None) -> str:
    return "".join(f"{a.get('name', '')}{a.get('joinphrase', '')}" for a in credits or []).strip()


def _results(results: list[dict[str, Any]]) -> Outcome:
    candidates: list[Candidate] = []
    tracks = []
    for result in sorted(results, key=lambda r: -float(r.get("score") or 0)):
        tracks.append(str(result.get("id")))
        for rec in result.get("recordings") or []:
            if not rec.get("title"):
                continue  # a recording id alone names nothing
            groups = rec.get("releasegroups") or []
            group = groups[0] if groups else {}
            ids = {"acoustid": str(result.get("id")), "musicbrainz_recording": str(rec.get("id"))}
            if group.get("id"):
                ids["musicbrainz_releasegroup"] = str(group["id"])
            candidates.append(
                Candidate(
                    provider="acoustid",
                    title=str(rec["title"]),
                    artist=_artists(rec.get("artists")),
                    album=group.get("title"),
                    score=float(result.get("score") or 0),
                    duration=float(rec["duration"]) if rec.get("duration") else None,
                    ids=ids,
                    raw=rec,
                )
            )
    if candidates:
        return Named(candidates)
    if tracks:
        return NotFound(f"{SERVICE} knows this fingerprint (track {tracks[0]}) but has no recording for it")
    return NotFound(f"{SERVICE}: no match")
