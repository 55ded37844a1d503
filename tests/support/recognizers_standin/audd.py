"""AudD's side of the stand-in: standard recognition at ``/``, as api.audd.io answers it.

Where each shape comes from:

* the request: docs.audd.io "Standard Recognition": ``api_token``, and the audio as ``file``
  (multipart/form-data), ``url`` (AudD downloads it) or ``audio`` (base64); ``return`` with
  comma-separated ``apple_music``, ``spotify``, ``deezer``, ``napster``, ``musicbrainz``;
  every parameter by GET or POST, in the query or the body;
* the bodies: AudDMusic/audd-openapi ``openapi.yaml`` (``RecognizeSuccessResponse``,
  ``RecognitionResult``, ``ErrorResponse``) and its captured fixtures
  (``recognize_with_metadata.json``: the blocks and where each carries the ISRC,
  ``error_900_invalid_token.json`` and ``error_700_no_file.json``: those errors word for
  word, with ``request_params`` echoing the token masked as ``d***e``);
  ``result: null`` when the song is unknown; HTTP 200 for every AudD error;
* the codes: 900 invalid token, 901 no token and the free limit reached, 902 the token's
  limit reached (the fixture ``error_902_stream_limit.json`` has its wording), 300 the audio
  cannot be processed, 700 no audio sent, 600 the URL cannot be downloaded (audd-python
  ``errors.py`` groups; the wording of 300, 600 and 901 is ours).

AudD reads up to 12 s (docs.audd.io: "Up to 12 seconds"): the stand-in identifies the first
12 s of what it receives and records how long the audio was. It identifies the audio, never
a name: the clip is decoded, fingerprinted at the −4 … +4 % playback-rate variants (it is
as tolerant of a fast or slow station as the collector's own matcher, no more) and matched
against the references with the collector's matcher (:func:`match_variants`: candidates
from the index, then a bit error rate check over the aligned window), so a degraded
broadcast excerpt is named only when its audio really is that song.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path

import httpx

from collector.audio import decode_file
from collector.fleet.variants import FULL_SWEEP
from collector.matching.matcher import match_variants
from shared.audio import AudioError
from shared.chroma import CHROMAPRINT_RATE, fingerprint_pcm
from tests.support.recognizers_standin.references import Reference, References

MAX_SECONDS = 12.0

MESSAGES = {
    900: "Recognition failed: authorization failed: the provided api_token is incorrect, invalid, or "
    "inactive. Please check the status of your account on dashboard.audd.io: it needs to have either "
    "a trial or an active subscription.",
    901: "Recognition failed: authorization failed: no api_token passed and the limit was reached. "
    "Get an api_token on dashboard.audd.io.",
    902: "Recognition failed: authorization failed: the limit was reached. (Please check if you have an "
    "active subscription on https://dashboard.audd.io/ or contact us: api@audd.io)",
    300: "Recognition failed: a problem with fingerprint creating. Keep in mind that you should send only "
    "audio files or links to audio files.",
    600: "Recognition failed: can't download the file from the url you provided.",
    700: "Recognition failed: you haven't sent a file via POST or a file URL in the `url` parameter. If "
    "you sent the request by POST, please check the protocol you're using: the URL should start with "
    "https:// (http:// requests get redirected to https and we don't receive any data from you) and "
    "that your Content-Type header equals to `multipart/form-data`.",
}


class AudDError(Exception):
    def __init__(self, code: int, message: str | None = None) -> None:
        super().__init__(message or MESSAGES.get(code, "Recognition failed"))
        self.code = code


def masked(token: str) -> str:
    return f"{token[:1]}***{token[-1:]}" if token else ""


def error_body(code: int, message: str, params: dict[str, str], method: str) -> dict[str, object]:
    echo = {k: (masked(v) if k == "api_token" else v) for k, v in params.items() if k not in ("audio",)}
    return {
        "status": "error",
        "error": {"error_code": code, "error_message": message},
        "request_params": echo,
        "request_api_method": "recognize",
        "request_http_method": method,
        "see api documentation": "https://docs.audd.io",
        "contact us": "api@audd.io",
    }


def audio_bytes(params: dict[str, str], file: bytes | None) -> bytes:
    """The audio sent as ``file``, ``audio`` (base64) or ``url``; AudDError 700/600 otherwise."""
    if file:
        return file
    if params.get("audio"):
        try:
            return base64.b64decode(params["audio"], validate=False)
        except (binascii.Error, ValueError) as exc:
            raise AudDError(300) from exc
    if params.get("url"):
        try:
            resp = httpx.get(params["url"], timeout=30, follow_redirects=True)
            resp.raise_for_status()
        except httpx.HTTPError as exc:
            raise AudDError(600) from exc
        return resp.content
    raise AudDError(700)


def identify(refs: References, audio: bytes) -> tuple[Reference, float, float] | None:
    """(reference, seconds into it, seconds of audio received), or None; AudDError 300."""
    with tempfile.NamedTemporaryFile(suffix=".audio") as tmp:
        Path(tmp.name).write_bytes(audio)
        try:
            pcm = decode_file(tmp.name)
        except (AudioError, OSError) as exc:
            raise AudDError(300) from exc
    received = pcm.size / CHROMAPRINT_RATE
    pcm = pcm[: int(MAX_SECONDS * CHROMAPRINT_RATE)]
    variants = [(ppm, fingerprint_pcm(pcm, CHROMAPRINT_RATE, ppm)) for ppm in FULL_SWEEP]
    match = match_variants(refs.index, variants)
    if match is None:
        return None
    return refs[match.recording_id], max(0.0, match.offset_s), received


def result(ref: Reference, offset_s: float, wanted: set[str]) -> dict[str, object]:
    """A ``RecognitionResult`` for ``ref``, with the blocks ``return`` asked for."""
    seconds = round(offset_s)
    body: dict[str, object] = {
        "artist": ref.artist,
        "title": ref.title,
        "album": ref.album,
        "release_date": ref.release_date,
        "label": ref.label,
        "timecode": f"{seconds // 60:02d}:{seconds % 60:02d}",
        "song_link": f"https://lis.tn/{ref.uid('song')[:5]}",
    }
    millis = round(ref.duration * 1000)
    if "apple_music" in wanted:
        apple: dict[str, object] = {
            "artistName": ref.artist,
            "url": f"https://music.apple.com/sn/album/{ref.uid('apple')[:8]}",
            "durationInMillis": millis,
            "releaseDate": ref.release_date,
            "name": ref.title,
            "albumName": ref.album,
            "playParams": {"id": str(1400000000 + ref.index), "kind": "song"},
            "genreNames": ["Mbalax", "Music"],
        }
        if ref.carries_isrc("apple_music"):
            apple["isrc"] = ref.isrc
        body["apple_music"] = apple
    if "spotify" in wanted:
        spotify: dict[str, object] = {
            "name": ref.title,
            "id": ref.uid("spotify").replace("-", "")[:22],
            "artists": [{"name": ref.artist, "id": ref.uid(f"spotify-artist:{ref.artist}")[:22]}],
            "album": {"name": ref.album, "release_date": ref.release_date, "release_date_precision": "day"},
            "duration_ms": millis,
            "external_ids": {"isrc": ref.isrc} if ref.carries_isrc("spotify") else {},
            "type": "track",
        }
        body["spotify"] = spotify
    if "deezer" in wanted:
        body["deezer"] = {"id": 3000000 + ref.index, "title": ref.title, "duration": round(ref.duration)}
    if "musicbrainz" in wanted:
        body["musicbrainz"] = [
            {
                "id": ref.uid("mb-recording"),
                "score": 100,
                "title": ref.title,
                "length": millis,
                "artist-credit": [{"name": ref.artist, "artist": {"id": ref.uid(f"mb-artist:{ref.artist}")}}],
                "isrcs": [ref.isrc] if ref.carries_isrc("musicbrainz") else None,
            }
        ]
    return body
