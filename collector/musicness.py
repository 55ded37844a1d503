"""Music or not: which parts of an unmatched stretch are music, from what the collector has.

A paid lookup is spent only on music. The collector holds, for every segment, its
Chromaprint values and its level; that is enough:

* **music holds its notes.** Chromaprint's 32 bits describe the chroma (the 12 pitch classes)
  over a few frames; a sustained chord keeps most bits from one value to the next, while
  speech, whose pitch and formants glide syllable by syllable, flips them fast. Over a
  5-second window (40 values), the mean number of bits that change between values 1, 2, 4
  and 8 steps apart separates the two: through the benchmark's station chains, song windows
  change 4.2 bits per step (median), talk and spoken ads 5.4. A logistic score of those four
  numbers (``WEIGHTS``, fitted on the benchmark's own programmes, ``bench/accuracy/music.py
  --fit``) rates each window: 89 % of song windows and 11 % of talk windows come out music;
* **silence is not music**: digital silence is Chromaprint's constant value ``SILENCE``; a
  segment quieter than ``SILENT_DBFS`` is left out by its level; and dead air that a
  station's compressor has made loud hiss is caught by its fingerprint, steadier than any
  music's (``NOISE_BITS``);
* **a span, not a window**: windows rated music, with gaps of up to ``BRIDGE_S`` bridged and
  isolated flips smoothed, make spans; only a span of at least ``min_s`` (the
  ``recognizers.music_min_s`` setting, 20 s: longer than a jingle or an ad's music bed) whose
  mean score clears ``SPAN_MARGIN`` counts as music. The 12 s a lookup sends are the span's
  most musical 12 s in its middle: kept ``EDGE_S`` from its ends, where talk and jingles meet a
  song, and out of a long span's first and last quarter, where a song fades in and out.

No model download, no audio: pure numpy over values the collector already stores. The
accuracy is measured in ``bench/accuracy/music.py`` (docs/benchmarks.md, "Music or not").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from collector.fpmath import bit_errors

__all__ = [
    "MIN_MUSIC_S",
    "Piece",
    "Span",
    "music_spans",
    "spans_of_segments",
    "window_features",
    "window_scores",
]

MIN_MUSIC_S = 20.0
EXCERPT_S = 12.0
SILENCE = 627964279  # Chromaprint's value for digital silence (AcoustID strips it too)
SILENT_DBFS = -45.0
# dead air through a station's compressor is loud hiss, and noise makes a steadier fingerprint than
# any music: windows changing fewer bits than this per step are taken for silence (measured:
# hiss 1.6-2.1 bits, the quietest 1 % of music windows 2.6-2.9)
NOISE_BITS = 2.3
WINDOW = 40  # values, about 5 s
HOP = 8  # values, about 1 s
LAGS = (1, 2, 4, 8)
# logit = BIAS + WEIGHTS . (mean changed bits at LAGS); fitted by bench/accuracy/music.py --fit
WEIGHTS = np.array([-2.819, -0.153, -0.318, -0.313])
BIAS = 22.86
SMOOTH = 5  # windows in the median filter
BRIDGE_S = 3.0
EDGE_S = 5.0
SPAN_MARGIN = 1.0


@dataclass(frozen=True)
class Span:
    """Music from ``start`` to ``end`` seconds into the stretch; ``excerpt`` the 12 s to send."""

    start: float
    end: float
    score: float  # mean window logit over the span: the higher, the surer
    excerpt: tuple[float, float]

    @property
    def seconds(self) -> float:
        return self.end - self.start


def window_features(
    values: npt.NDArray[np.uint32], quiet: npt.NDArray[np.bool_] | None = None
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Per window of ``WINDOW`` values, every ``HOP``: the mean changed bits at each of ``LAGS``,
    and whether the window is silent (mostly digital silence, or quieter than ``SILENT_DBFS``
    where ``quiet`` says so)."""
    n = max(0, (values.size - WINDOW) // HOP + 1)
    feats = np.zeros((n, len(LAGS)))
    silent = np.zeros(n, dtype=bool)
    flat = values == np.uint32(SILENCE)
    if quiet is not None:
        flat = flat | quiet
    for k in range(n):
        w = values[k * HOP : k * HOP + WINDOW]
        feats[k] = [bit_errors(w[:-lag], w[lag:]).mean() for lag in LAGS]
        silent[k] = flat[k * HOP : k * HOP + WINDOW].mean() > 0.5 or feats[k, 0] < NOISE_BITS
    return feats, silent


def window_scores(
    values: npt.NDArray[np.uint32], quiet: npt.NDArray[np.bool_] | None = None
) -> npt.NDArray[np.float64]:
    """The music logit of each window (minus infinity for a silent one)."""
    feats, silent = window_features(values, quiet)
    scores: npt.NDArray[np.float64] = BIAS + feats @ WEIGHTS
    scores[silent] = -np.inf
    return scores


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[first, last) index runs of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist(), strict=True))


def music_spans(
    values: npt.NDArray[np.uint32],
    step_s: float,
    min_s: float = MIN_MUSIC_S,
    quiet: npt.NDArray[np.bool_] | None = None,
) -> list[Span]:
    """The music spans of one continuous run of values (``step_s`` seconds apart)."""
    scores = window_scores(values, quiet)
    if scores.size == 0:
        return []
    music = scores > 0
    if music.size >= SMOOTH:  # a lone window against its neighbours is noise
        pad = SMOOTH // 2
        padded = np.concatenate([np.repeat(music[:1], pad), music, np.repeat(music[-1:], pad)])
        music = np.array([np.median(padded[i : i + SMOOTH]) > 0.5 for i in range(music.size)])
    hop_s = HOP * step_s
    bridge = int(BRIDGE_S / hop_s)
    runs: list[tuple[int, int]] = []
    for a, b in _runs(music):
        if runs and a - runs[-1][1] <= bridge:
            runs[-1] = (runs[-1][0], b)
        else:
            runs.append((a, b))
    spans = []
    for a, b in runs:
        start, end = a * hop_s, (b - 1) * hop_s + WINDOW * step_s
        finite = scores[a:b][np.isfinite(scores[a:b])]
        score = float(finite.mean()) if finite.size else -np.inf
        if end - start < min_s or score < SPAN_MARGIN:
            continue
        spans.append(Span(start, end, score, _best_excerpt(scores, a, b, hop_s, step_s)))
    return spans


def _best_excerpt(
    scores: npt.NDArray[np.float64], a: int, b: int, hop_s: float, step_s: float
) -> tuple[float, float]:
    """The ``EXCERPT_S`` seconds of windows a..b whose windows score highest on average, kept
    ``EDGE_S`` from the span's ends when it is long enough, and out of its first and last
    quarter: a span's edges are known to a window or so, a song's first and last seconds are
    where talk and jingles meet it, and its intro and its fade-out (or a cross-fade into the
    next song) are the parts a provider is least likely to know it by."""
    per = max(1, round((EXCERPT_S - WINDOW * step_s) / hop_s) + 1)  # windows covering 12 s
    edge = max(round(EDGE_S / hop_s), (b - a - per) // 4)
    lo, hi = (a + edge, b - edge) if b - a - 2 * edge >= per else (a, b)
    inside = np.where(np.isfinite(scores[lo:hi]), scores[lo:hi], -1e9)
    if inside.size <= per:
        first = lo + max(0, (inside.size - per) // 2)
    else:
        sums = np.convolve(inside, np.ones(per), mode="valid")
        first = lo + int(np.argmax(sums))
    start = first * hop_s
    return start, start + EXCERPT_S


@dataclass(frozen=True)
class Piece:
    """One unmatched segment as the collector stores it: when, how loud, its values."""

    start: datetime
    duration: float
    level_dbfs: float | None
    values: npt.NDArray[np.uint32]  # one rate variant's values, from ``start``
    step_s: float  # seconds between values (shared.chroma.item_duration of the variant)


def spans_of_segments(
    pieces: Sequence[Piece], min_s: float = MIN_MUSIC_S
) -> list[tuple[datetime, datetime, Span]]:
    """Music in consecutive unmatched segments of one station: (start, end, span), absolute.

    Segments are joined while each starts where the last ended (within a second); a gap
    (an outage, a matched song) starts a new run, classified on its own."""
    out: list[tuple[datetime, datetime, Span]] = []
    run: list[Piece] = []

    def flush() -> None:
        if not run:
            return
        values = np.concatenate([p.values for p in run]).astype(np.uint32)
        quiet = np.concatenate(
            [np.full(p.values.size, p.level_dbfs is not None and p.level_dbfs < SILENT_DBFS) for p in run]
        )
        t0 = run[0].start
        for span in music_spans(values, run[0].step_s, min_s, quiet):
            out.append((t0 + timedelta(seconds=span.start), t0 + timedelta(seconds=span.end), span))
        run.clear()

    for piece in sorted(pieces, key=lambda p: p.start):
        if (
            run
            and abs((piece.start - (run[-1].start + timedelta(seconds=run[-1].duration))).total_seconds())
            > 1.0
        ):
            flush()
        run.append(piece)
    flush()
    return out
