"""AudD lookups: at most 12 s of audio in, the song with every field AudD knows out.

The request is what docs.audd.io documents for standard recognition: ``POST`` to the API's
root, ``multipart/form-data`` with ``api_token``, ``file`` and
``return=apple_music,spotify,musicbrainz``. AudD answers HTTP 200 for its own errors,
``{"status": "error", "error": {"error_code": N, "error_message": "..."}}``
(AudDMusic/audd-openapi ``openapi.yaml`` ``ErrorResponse`` and its captured fixtures),
``{"status": "success", "result": null}`` when it does not know the song, and the
song with its ``apple_music``, ``spotify`` and ``musicbrainz`` blocks when it does. Every
field is kept: artist, title, album, label, release date, timecode, song link, and the ISRC
from whichever block carries it (Apple Music ``isrc``, Spotify ``external_ids.isrc``,
Deezer/Napster ``isrc``, MusicBrainz ``isrcs``).

Error codes, as AudD's Python SDK groups them (audd-python ``errors.py``):

    900 901 903        the token is wrong or inactive        Stop (breaker)
    902                the token's limit is reached          Stop (breaker, quota gone)
    904 905            not available with this token         Stop
    19 31337 20        blocked, or the client must update    Stop
    300 400 500        the audio cannot be processed         Park
    50 51 6xx 70x 906  the request is malformed              Park
    611                a daily rate limit                    RetryLater, tomorrow
    907                the song is not released yet          NotFound
    100 1000 other     AudD failed                           RetryLater
    HTTP 429           rate limited                          RetryLater (Retry-After, else 60 s)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from collector.recognizers.clip import AUDD_MAX_SECONDS, clip
from collector.recognizers.outcomes import Candidate, Named, NotFound, Outcome, Park, RetryLater, Stop
from collector.recognizers.transport import USER_AGENT, body_or_outcome, retry_at, send, tomorrow

__all__ = ["RETURN", "AudD", "answer", "candidate"]

RETURN = "apple_music,spotify,musicbrainz"
SERVICE = "AudD"

_STOP = {900, 901, 902, 903, 904, 905, 19, 31337, 20}
_PARK = {300, 400, 500, 50, 51, 600, 601, 602, 610, 700, 701, 702, 906}
_HINT = {
    900: "check recognizers.audd_token_file and the account on dashboard.audd.io",
    901: "no token reached AudD: set recognizers.audd_token_file",
    902: "the token's request limit is reached: raise it on dashboard.audd.io, or wait for tomorrow",
    903: "check recognizers.audd_token_file and the account on dashboard.audd.io",
}


class AudD:
    def __init__(
        self,
        url: str,
        token: SecretStr,
        timeout_s: float = 30.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url
        self._token = token
        self._client = httpx.Client(
            timeout=timeout_s, transport=transport, headers={"User-Agent": USER_AGENT}
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> AudD:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def recognize(self, path: Path | str, start_s: float = 0.0, seconds: float = AUDD_MAX_SECONDS) -> Outcome:
        """Ask AudD about ``seconds`` (at most 12) of the audio file ``path`` from ``start_s``.

        Raises :class:`shared.audio.AudioError` if the file cannot be decoded there: nothing is
        sent (nor counted) for audio the collector cannot read.
        """
        audio = clip(path, start_s, seconds)
        request = self._client.build_request(
            "POST",
            self.url,
            data={"api_token": self._token.get_secret_value(), "return": RETURN},
            files={"file": ("excerpt.ogg", audio, "audio/ogg")},
        )
        resp = send(self._client, SERVICE, request)
        if isinstance(resp, RetryLater):
            return resp
        return answer(resp)


def answer(resp: httpx.Response) -> Outcome:
    """The outcome of AudD's HTTP answer."""
    body = body_or_outcome(resp, SERVICE, "recognizers.audd_url", "https://api.audd.io/", wait_429_s=60.0)
    if not isinstance(body, dict):
        return body
    if body.get("status") == "success":
        result = body.get("result")
        if not isinstance(result, dict):
            return NotFound(f"{SERVICE}: no match")
        return Named([candidate(result)])
    error: dict[str, Any] = body["error"] if isinstance(body.get("error"), dict) else {}
    try:
        code = int(error.get("error_code", 0))
    except (TypeError, ValueError):
        code = 0
    said = f"{SERVICE} error {code}: {error.get('error_message', 'no message')}"
    if code in _HINT:
        said += f" ({_HINT[code]})"
    if code in _STOP:
        return Stop(said)
    if code in _PARK:
        return Park(said)
    if code == 611:
        return RetryLater(said, tomorrow())
    if code == 907:
        return NotFound(said)
    return RetryLater(said, retry_at(resp, 60.0))


def _get(block: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(block, dict):
            return None
        block = block.get(key)
    return block


def _isrc(result: dict[str, Any]) -> str | None:
    found = [
        _get(result, "apple_music", "isrc"),
        _get(result, "spotify", "external_ids", "isrc"),
        _get(result, "deezer", "isrc"),
        _get(result, "napster", "isrc"),
        result.get("isrc"),
    ]
    for entry in result.get("musicbrainz") or []:
        isrcs = entry.get("isrcs") if isinstance(entry, dict) else None
        if isrcs:
            found.append(isrcs[0])
    return next((str(i).replace("-", "").upper() for i in found if i), None)


def candidate(result: dict[str, Any]) -> Candidate:
    """Everything AudD said about the song, accents intact."""
    ids: dict[str, str] = {}
    for name, value in (
        ("apple_music", _get(result, "apple_music", "playParams", "id")),
        ("spotify", _get(result, "spotify", "id")),
        ("deezer", _get(result, "deezer", "id")),
    ):
        if value:
            ids[name] = str(value)
    mb = [e for e in result.get("musicbrainz") or [] if isinstance(e, dict) and e.get("id")]
    if mb:
        ids["musicbrainz_recording"] = str(mb[0]["id"])
    if result.get("audio_id") is not None:
        ids["audd_audio_id"] = str(result["audio_id"])
    millis = _get(result, "apple_music", "durationInMillis") or _get(result, "spotify", "duration_ms")
    return Candidate(
        provider="audd",
        title=str(result.get("title") or ""),
        artist=str(result.get("artist") or ""),
        album=result.get("album") or None,
        label=result.get("label") or None,
        release_date=result.get("release_date") or None,
        isrc=_isrc(result),
        timecode=result.get("timecode") or None,
        song_link=result.get("song_link") or None,
        duration=millis / 1000.0 if isinstance(millis, int | float) else None,
        ids=ids,
        raw=result,
    )
