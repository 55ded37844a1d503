"""AcoustID's side of the stand-in: ``/v2/lookup``, as acoustid-server answers it.

Where each shape comes from (acoustid/acoustid-server on GitHub):

* parameters and their errors: ``acoustid/api/v2/__init__.py`` (``LookupHandlerParams``):
  ``client`` missing is error 2, unknown is error 4; ``duration`` must be a positive integer
  (error 2 when absent or not an integer); ``fingerprint`` missing is 2, undecodable or not
  algorithm 1 is 3; ``maxdurationdiff`` outside 1..30 is 11; ``format`` other than json,
  jsonp, xml is 1;
* the error body ``{"status": "error", "error": {"code": N, "message": "..."}}`` with HTTP 400,
  500 (internal), 503 (``ServiceUnavailable``, 13) or 429 (``TooManyRequests``, 14, "rate limit
  (%f requests per second) exceeded, try again later"): ``acoustid/api/errors.py``;
* the success body: ``acoustid/web/pages/webservice.md``, ``meta=recordings+releasegroups+compress``
  (recordings with ``id``, ``title``, ``duration``, ``artists``; ``releasegroups`` with ``id``,
  ``title``, ``type``; ``compress`` drops a release group's artists equal to the recording's);
* gzip bodies: ``acoustid/server.py`` ``GzipRequestMiddleware`` (a body that does not
  decompress is a plain 400 Bad Request).

**Which fingerprints match (the rule for broadcast stretches).** acoustid-server compares a
query only with stored fingerprints whose length lies within ``maxdurationdiff`` (default 7 s,
``const.FINGERPRINT_MAX_LENGTH_DIFF``) of the ``duration`` sent (``data/fingerprint.py``,
``length BETWEEN length - max_length_diff AND length + max_length_diff``), and scores them with
``acoustid_compare2`` (pg_acoustid ``acoustid_compare.c``, ``match_fingerprints2``) at a
maximum alignment offset of 80 values (``TRACK_MAX_OFFSET``, about 10 s), keeping scores above
0.4 (``TRACK_GROUP_MERGE_THRESHOLD``). :func:`compare2` ports that function. Stored
fingerprints are the first 120 s of each track, as fpcalc computes them. So a stretch is
named only if its ``duration`` is within 7 s of the track's length *and* it starts within
~10 s of the track's start: a whole play, not a piece of one.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from tests.support.recognizers_standin.references import Reference, References

MAX_LENGTH_DIFF = 7
MAX_ALLOWED_LENGTH_DIFF = 30
MAX_OFFSET = 80
MIN_SCORE = 0.4
FORMATS = {"json", "jsonp", "xml"}
_MATCH_BITS = 14
_UNIQ_BITS = 14  # acoustid_compare.c: UNIQ_STRIP uses MATCH_BITS too
_POP8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.int64)


class LookupError_(Exception):
    def __init__(self, code: int, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.code, self.message, self.status = code, message, status


def error_body(code: int, message: str) -> dict[str, object]:
    return {"status": "error", "error": {"code": code, "message": message}}


def too_many_requests(rate: float = 3.0) -> LookupError_:
    return LookupError_(14, f"rate limit ({rate:f} requests per second) exceeded, try again later", 429)


def _popcount(x: npt.NDArray[np.uint32]) -> int:
    return int(_POP8[np.ascontiguousarray(x).view(np.uint8)].sum())


def compare2(a: npt.NDArray[np.uint32], b: npt.NDArray[np.uint32], max_offset: int = MAX_OFFSET) -> float:
    """pg_acoustid's ``match_fingerprints2``: the score AcoustID ranks fingerprints by."""
    asize, bsize = a.size, b.size
    if not asize or not bsize:
        return 0.0
    keys = np.arange((1 << _MATCH_BITS) - 1)  # the C loop stops one short of MATCH_MASK
    a_off = np.zeros(1 << _MATCH_BITS, dtype=np.int64)
    b_off = np.zeros(1 << _MATCH_BITS, dtype=np.int64)
    np.maximum.at(
        a_off, (a >> np.uint32(32 - _MATCH_BITS)).astype(np.int64), np.arange(asize)
    )  # last position
    np.maximum.at(b_off, (b >> np.uint32(32 - _MATCH_BITS)).astype(np.int64), np.arange(bsize))
    both = (a_off[keys] > 0) & (b_off[keys] > 0)  # position 0 counts as absent, as in the C arrays
    offsets = a_off[keys][both] - b_off[keys][both]
    if max_offset:
        offsets = offsets[np.abs(offsets) <= max_offset]
    if offsets.size == 0:
        return 0.0
    counts = np.bincount(offsets + bsize)
    top_offset = int(np.argmax(counts)) - bsize
    top_count = int(counts.max())
    minsize = min(asize, bsize) & ~1
    if top_offset < 0:
        b, bsize = b[-top_offset:], max(0, bsize + top_offset)
    else:
        a, asize = a[top_offset:], max(0, asize - top_offset)
    size = min(asize, bsize) // 2
    if not size or not minsize:
        return 0.0
    auniq = len(set((a >> np.uint32(32 - _UNIQ_BITS)).tolist()))
    buniq = len(set((b >> np.uint32(32 - _UNIQ_BITS)).tolist()))
    diversity = min(min(1.0, (auniq + 10) / asize + 0.5), min(1.0, (buniq + 10) / bsize + 0.5))
    if top_count < max(auniq, buniq) * 0.02:
        return 0.0
    biterror = _popcount(a[: 2 * size] ^ b[: 2 * size])
    score = (size * 2.0 / minsize) * (1.0 - 2.0 * biterror / (64 * size))
    score = max(score, 0.0)
    if diversity < 1.0:
        score = score ** (8.0 - 7.0 * diversity)
    return float(score)


def parse(values: dict[str, str], keys: set[str]) -> tuple[npt.NDArray[np.uint32], int, list[str], int]:
    """(fingerprint, duration, meta, maxdurationdiff) of a lookup, or :class:`LookupError_`."""
    import chromaprint  # pyacoustid's binding: the same decoder fpcalc's output goes through

    fmt = values.get("format", "json")
    if fmt not in FORMATS:
        raise LookupError_(1, f'unknown format "{fmt}"')
    client = values.get("client")
    if not client:
        raise LookupError_(2, 'missing required parameter "client"')
    if client not in keys:
        raise LookupError_(4, "invalid API key")
    meta = (values.get("meta") or "").split()
    diff_text = values.get("maxdurationdiff")
    max_diff = MAX_LENGTH_DIFF
    if diff_text is not None:
        if not diff_text.lstrip("-").isdigit() or not 1 <= int(diff_text) <= MAX_ALLOWED_LENGTH_DIFF:
            raise LookupError_(
                11, f'parameter "maxdurationdiff" must be between 1 and {MAX_ALLOWED_LENGTH_DIFF}'
            )
        max_diff = int(diff_text)
    duration_text = values.get("duration", "")
    if not duration_text.isdigit() or int(duration_text) == 0:
        raise LookupError_(2, 'missing required parameter "duration"')
    fp = values.get("fingerprint")
    if not fp:
        raise LookupError_(2, 'missing required parameter "fingerprint"')
    try:
        raw, algorithm = chromaprint.decode_fingerprint(fp.encode("ascii", "ignore"))
    except Exception as exc:
        raise LookupError_(3, "invalid fingerprint") from exc
    if algorithm != 1 or not raw:
        raise LookupError_(3, "invalid fingerprint")
    return np.array(raw, dtype=np.int64).astype(np.uint32), int(duration_text), meta, max_diff


def lookup(refs: References, values: dict[str, str], keys: set[str]) -> dict[str, object]:
    fp, duration, meta, max_diff = parse(values, keys)
    scored: list[tuple[float, Reference]] = []
    for ref in refs.refs:
        if abs(round(ref.duration) - duration) > max_diff:
            continue
        score = compare2(fp, ref.head)
        if score > MIN_SCORE:
            scored.append((score, ref))
    scored.sort(key=lambda s: -s[0])
    return {"status": "ok", "results": [_result(ref, score, meta) for score, ref in scored]}


def _result(ref: Reference, score: float, meta: list[str]) -> dict[str, object]:
    result: dict[str, object] = {"id": ref.uid("acoustid-track"), "score": round(score, 6)}
    if "recordings" in meta or "recordingids" in meta:
        recording: dict[str, object] = {"id": ref.uid("mb-recording")}
        if "recordings" in meta:
            artists = [{"id": ref.uid(f"mb-artist:{ref.artist}"), "name": ref.artist}]
            recording.update({"title": ref.title, "duration": round(ref.duration), "artists": artists})
            if "releasegroups" in meta:
                group: dict[str, object] = {
                    "id": ref.uid("mb-releasegroup"),
                    "title": ref.album,
                    "type": "Album",
                }
                if "compress" not in meta:
                    group["artists"] = artists
                recording["releasegroups"] = [group]
        result["recordings"] = [recording]
    return result
