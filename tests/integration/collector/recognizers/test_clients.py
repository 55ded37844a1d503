"""The collector's AudD and AcoustID clients against the stand-in: every answer is an outcome.

What an operator would check: the song and every field (accents, ISRC from whichever block
carries it), at most 12 s of audio sent, AcoustID's request exactly pyacoustid's, and each
error, refusal and fault turned into the outcome that decides retry, park or stop; the
keys appear in no log line and no message.
"""

from __future__ import annotations

import gzip
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import acoustid as pyacoustid
import pytest
from pydantic import SecretStr

from collector.audio import decode_file
from collector.recognizers.acoustid import AcoustID, lookup_body
from collector.recognizers.audd import AudD
from collector.recognizers.outcomes import Named, NotFound, Outcome, Park, RetryLater, Stop
from shared.chroma import CHROMAPRINT_RATE, compressed, fingerprint_pcm
from tests.fixtures.collector import free_port
from tests.integration.collector.recognizers.conftest import ISRC_IN, OFF_CATALOG
from tests.support.audio import excerpt, track
from tests.support.recognizers_standin import References, Standin

TOKEN = "audd-SECRET-token-7f3c"
KEY = "acoustid-SECRET-key-91ab"


@pytest.fixture
def keyed(standin_refs: References) -> Standin:
    with Standin(standin_refs, audd_tokens={TOKEN}, acoustid_keys={KEY}) as s:
        yield s  # type: ignore[misc]


def audd(url: str, path: Path, start: float = 30.0, timeout: float = 30.0, seconds: float = 12.0) -> Outcome:
    with AudD(url, SecretStr(TOKEN), timeout) as client:
        return client.recognize(path, start, seconds)


def acoustid(url: str, values: list[int], duration: float, timeout: float = 30.0) -> Outcome:
    with AcoustID(url, SecretStr(KEY), timeout) as client:
        return client.lookup(values, duration)


def _whole(path: Path) -> tuple[list[int], float]:
    """What fpcalc computes of a file: the first 120 s, and the whole duration."""
    pcm = decode_file(path)
    head = fingerprint_pcm(pcm[: 120 * CHROMAPRINT_RATE], CHROMAPRINT_RATE)
    return [int(v) for v in head], pcm.size / CHROMAPRINT_RATE


@pytest.mark.parametrize("i", range(len(ISRC_IN)), ids=ISRC_IN)
def test_audd_names_the_song_with_every_field(keyed: Standin, i: int, standin_refs: References) -> None:
    ref = standin_refs[i]
    outcome = audd(keyed.audd_url, track(i), 50)
    assert isinstance(outcome, Named)
    c = outcome.best
    assert (c.provider, c.artist, c.title, c.album, c.label) == (
        "audd",
        ref.artist,
        ref.title,
        ref.album,
        ref.label,
    )
    assert c.release_date == ref.release_date
    assert c.timecode in {"00:49", "00:50", "00:51"}
    assert c.song_link and c.song_link.startswith("https://lis.tn/")
    # the ISRC is found in whichever block carries it, and is None when none does
    assert c.isrc == (None if ISRC_IN[i] == "none" else ref.isrc)
    assert c.ids["musicbrainz_recording"] == ref.uid("mb-recording")
    assert set(c.raw) >= {"apple_music", "spotify", "musicbrainz"}
    (sent,) = keyed.requests
    assert sent.params["api_token"] == TOKEN
    assert sent.params["return"] == "apple_music,spotify,musicbrainz"
    assert sent.headers["Content-Type"].startswith("multipart/form-data")
    assert sent.file_name and sent.file_bytes[:4] == b"OggS"


def test_audd_never_gets_more_than_12_seconds(keyed: Standin) -> None:
    outcome = audd(keyed.audd_url, track(0), 20, seconds=60)
    assert isinstance(outcome, Named)
    (sent,) = keyed.requests
    assert sent.audio_seconds is not None and sent.audio_seconds <= 12.05


def test_audd_does_not_know_other_music(keyed: Standin) -> None:
    assert isinstance(audd(keyed.audd_url, OFF_CATALOG), NotFound)


def _in(outcome: Outcome, seconds: float) -> bool:
    assert isinstance(outcome, RetryLater) and outcome.at is not None
    return abs((outcome.at - datetime.now(UTC)).total_seconds() - seconds) < 30


AUDD_FAULTS = [
    ("invalid_key", {}, Stop),
    ("quota", {}, Stop),
    ("error", {"code": 903}, Stop),
    ("error", {"code": 904}, Stop),
    ("error", {"code": 300}, Park),
    ("error", {"code": 906}, Park),
    ("error", {"code": 611}, RetryLater),
    ("error", {"code": 907}, NotFound),
    ("error", {"code": 1000}, RetryLater),
    ("http429", {"retry_after": "120"}, RetryLater),
    ("http429", {}, RetryLater),
    ("http503", {}, RetryLater),
    ("drop", {}, RetryLater),
    ("slow", {"seconds": 3.0}, RetryLater),
]


@pytest.mark.parametrize(("kind", "params", "expected"), AUDD_FAULTS, ids=lambda x: str(x))
def test_audd_outcomes(keyed: Standin, kind: str, params: dict, expected: type) -> None:  # type: ignore[type-arg]
    keyed.fault("audd", kind, **params)
    outcome = audd(keyed.audd_url, track(0), timeout=1.0)
    assert isinstance(outcome, expected), outcome
    if kind == "http429":
        assert _in(outcome, 120 if params else 60)
    if params.get("code") == 611:  # a daily limit: tomorrow
        assert isinstance(outcome, RetryLater) and outcome.at is not None and outcome.at.hour == 0
    if kind in ("drop", "slow"):
        assert isinstance(outcome, RetryLater) and outcome.sent  # it left: it may have been billed


def test_audd_spent_quota_stops(keyed: Standin) -> None:
    keyed.set_audd_quota(0)
    outcome = audd(keyed.audd_url, track(0))
    assert isinstance(outcome, Stop) and "902" in outcome.why and "dashboard.audd.io" in outcome.why


def test_unreachable_and_wrong_urls(keyed: Standin) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    outcome = audd(nowhere + "/", track(0))
    assert isinstance(outcome, RetryLater) and not outcome.sent  # nothing left, nothing spent
    values, duration = _whole(track(0))
    outcome = acoustid(nowhere + "/v2/lookup", values, duration)
    assert isinstance(outcome, RetryLater) and not outcome.sent
    # a URL that answers, but not as the service: a configuration to fix, not a retry loop
    outcome = audd(keyed.base_url + "/v1/nothing", track(0))
    assert isinstance(outcome, Stop) and "recognizers.audd_url" in outcome.why


def test_acoustid_request_is_pyacoustids(keyed: Standin) -> None:
    """Byte for byte the form pyacoustid's lookup sends, gzip-compressed as AcoustID asks."""
    values, duration = _whole(track(2))
    outcome = acoustid(keyed.acoustid_url, values, duration)
    assert isinstance(outcome, Named)
    pyacoustid.set_base_url(keyed.base_url + "/v2/")  # http: pyacoustid gzips (only) here
    fp = compressed(values)  # type: ignore[arg-type]
    theirs = pyacoustid.lookup(KEY, fp, duration, meta=["recordings", "releasegroups", "compress"])
    ours, pya = keyed.requests
    assert ours.headers["Content-Encoding"] == pya.headers["Content-Encoding"] == "gzip"
    assert ours.headers["Content-Type"] == pya.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert ours.form_body == pya.form_body == lookup_body(KEY, values, duration)
    assert gzip.decompress(ours.body) == ours.form_body
    assert ours.form_body.endswith(b"&meta=recordings+releasegroups+compress")
    assert theirs["results"][0]["recordings"][0]["title"] == outcome.best.title == "Jàmm Ak Salaam"


def test_acoustid_names_whole_plays_only(keyed: Standin, standin_refs: References) -> None:
    values, duration = _whole(track(1))
    outcome = acoustid(keyed.acoustid_url, values, duration)
    assert isinstance(outcome, Named)
    c = outcome.best
    assert (c.artist, c.title, c.album) == ("Kër Gi Band", "Sama Gàmmu", "Sama Gàmmu (Album)")
    assert c.score is not None and c.score > 0.9
    assert c.ids["acoustid"] == standin_refs[1].uid("acoustid-track")
    # a minute of the same song, cut from the middle: AcoustID is built for whole files
    assert isinstance(acoustid(keyed.acoustid_url, values[480:960], 60), NotFound)


ACOUSTID_FAULTS = [
    ("invalid_key", {}, Stop),
    ("error", {"code": 3}, Park),
    ("error", {"code": 8}, Park),
    ("error", {"code": 18}, NotFound),
    ("error", {"code": 5}, RetryLater),
    ("http429", {"retry_after": "2"}, RetryLater),
    ("http503", {"retry_after": "45"}, RetryLater),
    ("drop", {}, RetryLater),
    ("slow", {"seconds": 3.0}, RetryLater),
]


@pytest.mark.parametrize(("kind", "params", "expected"), ACOUSTID_FAULTS, ids=lambda x: str(x))
def test_acoustid_outcomes(keyed: Standin, kind: str, params: dict, expected: type) -> None:  # type: ignore[type-arg]
    values, duration = _whole(track(0))
    keyed.fault("acoustid", kind, **params)
    outcome = acoustid(keyed.acoustid_url, values, duration, timeout=1.0)
    assert isinstance(outcome, expected), outcome
    if "retry_after" in params:
        assert _in(outcome, float(params["retry_after"]))


def test_keys_never_reach_a_log_or_a_message(
    keyed: Standin, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """Every path (answers, errors, faults, no connection) at DEBUG, httpx's own logs included."""
    caplog.set_level(logging.DEBUG)
    said: list[str] = []
    values, duration = _whole(track(0))
    nowhere = f"http://127.0.0.1:{free_port()}"
    bad = tmp_path / "bad.mp3"
    bad.write_bytes(b"not audio")
    for kind, params, _ in [*AUDD_FAULTS, ("none", {}, None)]:
        if kind != "none":
            keyed.fault("audd", kind, **params)
        said.append(repr(audd(keyed.audd_url, track(0), timeout=1.0)))
    for kind, params, _ in [*ACOUSTID_FAULTS, ("none", {}, None)]:
        if kind != "none":
            keyed.fault("acoustid", kind, **params)
        said.append(repr(acoustid(keyed.acoustid_url, values, duration, timeout=1.0)))
    said.append(repr(audd(nowhere + "/", track(0))))
    said.append(repr(acoustid(nowhere + "/v2/lookup", values, duration)))
    said.append(repr(audd(keyed.base_url + "/nothing", track(0))))
    with AudD(keyed.audd_url, SecretStr(TOKEN)) as client:
        said.append(repr(client) + repr(vars(client)))
    excerpt(track(0), tmp_path / "short.mp3", 0, 3)
    said.append(repr(audd(keyed.audd_url, tmp_path / "short.mp3", 0)))
    with pytest.raises(ValueError) as err:  # undecodable audio: nothing is sent
        audd(keyed.audd_url, bad)
    said.append(str(err.value))
    text = "\n".join(said + [r.getMessage() for r in caplog.records] + [caplog.text])
    assert "httpx" in caplog.text  # the capture did see the HTTP layer
    assert TOKEN not in text and KEY not in text
    assert len(keyed.requests) >= len(AUDD_FAULTS) + len(ACOUSTID_FAULTS)


def test_outcome_times_are_in_the_future(keyed: Standin) -> None:
    keyed.fault("audd", "error", code=611)
    outcome = audd(keyed.audd_url, track(0))
    assert isinstance(outcome, RetryLater) and outcome.at is not None
    assert datetime.now(UTC) < outcome.at <= datetime.now(UTC) + timedelta(days=1)
