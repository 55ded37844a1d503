"""The stand-in answers as AudD and AcoustID document, and names audio only when it is the song.

Requests here are built by hand, the way curl or another client would send them, so the
stand-in is checked on its own before the collector's clients are checked against it.
"""

from __future__ import annotations

import base64
import gzip
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from collector.audio import decode_file
from shared.chroma import CHROMAPRINT_RATE, compressed, fingerprint_pcm
from tests.integration.collector.recognizers.conftest import OFF_CATALOG
from tests.support.audio import excerpt, track
from tests.support.recognizers_standin import References, Standin

TOKEN = "audd-test-token"
KEY = "acoustid-test-key"


def _clip(tmp_path: Path, src: Path, begin: float, af: str | None = None, name: str = "clip.mp3") -> bytes:
    return excerpt(src, tmp_path / name, begin, 12, af).read_bytes()


def _audd(standin: Standin, data: dict[str, str], file: bytes | None = None) -> dict:  # type: ignore[type-arg]
    files = {"file": ("clip.mp3", file, "audio/mpeg")} if file is not None else None
    resp = httpx.post(standin.audd_url, data=data, files=files, timeout=60)
    assert resp.status_code == 200  # AudD answers its own errors with HTTP 200
    assert resp.headers["content-type"].startswith("application/json")
    body: dict = resp.json()  # type: ignore[type-arg]
    return body


def test_audd_names_a_broadcast_clip_with_every_block(standin: Standin, tmp_path: Path) -> None:
    # 2 % fast through an FM-like band, at 64 kbit/s: still the song
    clip = _clip(tmp_path, track(0), 40, "asetrate=44100*1.02,aresample=44100,lowpass=f=8000")
    body = _audd(standin, {"api_token": TOKEN, "return": "apple_music,spotify,musicbrainz"}, clip)
    assert body["status"] == "success"
    result = body["result"]
    assert (result["artist"], result["title"]) == ("Aïssatou Fall", "Dëgg La")
    assert {"album", "release_date", "label", "timecode", "song_link"} <= set(result)
    # 40 s into the broadcast, which runs 2 % fast: about 41 s into the song
    assert result["timecode"] in {"00:40", "00:41", "00:42"}
    assert result["apple_music"]["isrc"] == result["spotify"]["external_ids"]["isrc"] == "SNA1B2600001"
    assert result["musicbrainz"][0]["isrcs"] == ["SNA1B2600001"]
    assert "deezer" not in result  # only the blocks `return` asked for


def test_audd_does_not_name_other_music(standin: Standin, tmp_path: Path) -> None:
    body = _audd(standin, {"api_token": TOKEN}, _clip(tmp_path, OFF_CATALOG, 30))
    assert body == {"status": "success", "result": None}


def test_audd_reads_base64_audio_and_urls(standin: Standin, tmp_path: Path) -> None:
    clip = _clip(tmp_path, track(1), 60)
    body = _audd(standin, {"api_token": TOKEN, "audio": base64.b64encode(clip).decode()})
    assert body["result"]["title"] == "Sama Gàmmu"
    handler = partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/clip.mp3"
        # every parameter works in the query of a GET too (docs.audd.io, "GET requests")
        resp = httpx.get(standin.audd_url, params={"api_token": TOKEN, "url": url}, timeout=60)
        assert resp.json()["result"]["title"] == "Sama Gàmmu"
        missing = _audd(standin, {"api_token": TOKEN, "url": url.replace("clip", "nothing")})
        assert missing["error"]["error_code"] == 600
    finally:
        server.shutdown()
        server.server_close()


def test_audd_error_shapes(standin: Standin, tmp_path: Path) -> None:
    clip = _clip(tmp_path, track(0), 30)
    bad = _audd(standin, {"api_token": "dz-wrong-tokene"}, clip)
    assert bad["status"] == "error"
    assert bad["error"]["error_code"] == 900
    assert bad["error"]["error_message"].startswith("Recognition failed: authorization failed")
    assert bad["request_params"]["api_token"] == "d***e"  # the token is echoed masked, as AudD does
    assert _audd(standin, {"api_token": TOKEN})["error"]["error_code"] == 700
    assert _audd(standin, {}, clip)["error"]["error_code"] == 901
    assert _audd(standin, {"api_token": TOKEN}, b"not audio at all")["error"]["error_code"] == 300
    standin.set_audd_quota(1)
    assert _audd(standin, {"api_token": TOKEN}, clip)["status"] == "success"
    assert _audd(standin, {"api_token": TOKEN}, clip)["error"]["error_code"] == 902


def test_audd_faults(standin: Standin, tmp_path: Path) -> None:
    clip = _clip(tmp_path, track(0), 30)
    standin.fault("audd", "http429", retry_after="7")
    resp = httpx.post(standin.audd_url, data={"api_token": TOKEN}, files={"file": ("c.mp3", clip)})
    assert resp.status_code == 429 and resp.headers["retry-after"] == "7"
    standin.fault("audd", "drop")
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(standin.audd_url, data={"api_token": TOKEN}, files={"file": ("c.mp3", clip)})
    standin.fault("audd", "slow", seconds=2.0)
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(standin.audd_url, data={"api_token": TOKEN}, files={"file": ("c.mp3", clip)}, timeout=0.5)
    assert [r.answer for r in standin.requests] == ["fault http429", "fault drop", "fault slow"]


def _head(path: Path) -> tuple[str, int]:
    """What fpcalc prints for a file: the first 120 s, compressed, and the whole duration."""
    pcm = decode_file(path)
    return compressed(fingerprint_pcm(pcm[: 120 * CHROMAPRINT_RATE], CHROMAPRINT_RATE)), int(
        pcm.size / CHROMAPRINT_RATE
    )


def test_acoustid_lookup_get_post_and_gzip(standin: Standin) -> None:
    fp, duration = _head(track(2))
    params = {
        "client": KEY,
        "duration": str(duration),
        "fingerprint": fp,
        "meta": "recordings releasegroups compress",
    }
    answers = [
        httpx.get(standin.acoustid_url, params=params).json(),
        httpx.post(standin.acoustid_url, data=params).json(),
        httpx.post(
            standin.acoustid_url,
            content=gzip.compress(urlencode(params).encode()),
            headers={"Content-Encoding": "gzip", "Content-Type": "application/x-www-form-urlencoded"},
        ).json(),
    ]
    assert answers[0] == answers[1] == answers[2]
    body = answers[0]
    assert body["status"] == "ok"
    (result,) = body["results"]
    assert result["score"] > 0.9
    (recording,) = result["recordings"]
    assert recording["title"] == "Jàmm Ak Salaam"
    assert recording["artists"][0]["name"] == "Sëriñ Mbaye & Jàmm"
    assert recording["releasegroups"][0]["title"] == "Jàmm Ak Salaam (Album)"
    assert "artists" not in recording["releasegroups"][0]  # compress drops the repeated artists


def test_acoustid_names_whole_files_only(standin: Standin, standin_refs: References) -> None:
    """The server's rule: stored length within 7 s of `duration`, alignment within ~10 s."""
    pcm = decode_file(track(3))
    length = int(pcm.size / CHROMAPRINT_RATE)

    def ask(first_s: float, seconds: float, duration: int) -> list:  # type: ignore[type-arg]
        part = pcm[int(first_s * CHROMAPRINT_RATE) : int((first_s + min(seconds, 120)) * CHROMAPRINT_RATE)]
        fp = compressed(fingerprint_pcm(part, CHROMAPRINT_RATE))
        data = {"client": KEY, "duration": str(duration), "fingerprint": fp, "meta": "recordings"}
        body = httpx.post(standin.acoustid_url, data=data).json()
        assert body["status"] == "ok"
        return body["results"]  # type: ignore[no-any-return]

    assert ask(0, length, length)  # the whole song, as aired from its start
    assert ask(3, length - 3, length - 3)  # missed its first 3 s: within both windows
    assert not ask(0, length, length - 20)  # the duration says it is another length
    assert not ask(60, 60, 60)  # a minute from the middle: never a whole file
    assert not ask(30, length - 30, length - 30)  # joined 30 s late: the start does not align


def test_acoustid_error_shapes(standin: Standin) -> None:
    fp, duration = _head(track(0))

    def ask(**params: str) -> tuple[int, dict]:  # type: ignore[type-arg]
        resp = httpx.post(standin.acoustid_url, data=params)
        return resp.status_code, resp.json()

    ok = {"client": KEY, "duration": str(duration), "fingerprint": fp}
    assert ask(**{**ok, "client": "nope"}) == (
        400,
        {"status": "error", "error": {"code": 4, "message": "invalid API key"}},
    )
    assert ask(**{k: v for k, v in ok.items() if k != "client"})[1]["error"]["code"] == 2
    assert ask(**{**ok, "duration": "x"})[1]["error"] == {
        "code": 2,
        "message": 'missing required parameter "duration"',
    }
    assert ask(**{**ok, "fingerprint": "AQAB!!not"})[1]["error"]["code"] == 3
    assert ask(**{**ok, "maxdurationdiff": "31"})[1]["error"]["code"] == 11
    assert ask(**{**ok, "format": "yaml"})[1]["error"]["code"] == 1
    bad_gzip = httpx.post(standin.acoustid_url, content=b"plain", headers={"Content-Encoding": "gzip"})
    assert bad_gzip.status_code == 400
    standin.fault("acoustid", "http429")
    status, body = ask(**ok)
    assert (status, body["error"]["code"]) == (429, 14)
    standin.fault("acoustid", "http503", retry_after="30")
    assert ask(**ok)[1]["error"]["code"] == 13
