"""The peer: audfprint2 (Dan Ellis's landmark fingerprinter, from PyPI) on the same corpus.

audfprint answers "which reference does this query contain, at what time skew"; it does not
cut a day into plays. To compare like with like, it gets the same treatment as our pipeline:

* the broadcast is analysed once into landmark hashes, then queried in the same 10-second
  windows our segments use (``audfprint match`` settings: density 20, match window 2
  frames, at least 5 time-aligned hashes);
* each window's best hit becomes a segment match (recording, offset), and windows are
  chained into plays by *our* assembly (``collector.plays.assembly.chain``: same bridging,
  same offset continuity, same two-window minimum), without the fingerprint-level refinement
  that only Chromaprint values allow; a play's edges are the first and last aligned hash
  times in its edge windows (audfprint's ``--find-time-range``);
* landmarks are not speed-invariant, so it runs twice: as shipped (rate 0), and with the
  station's *true* speed undone before analysis (an oracle: the best any rate sweep could do).

Install: ``pip install audfprint2``.
"""

from __future__ import annotations

import logging
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.accuracy.score import Interval
from collector.plays.boundaries import trim_overlaps
from collector.plays.chaining import chain
from collector.plays.draft import SegInfo, SegmentMatchInfo
from shared.chroma import rate_to_ppm

WINDOW_S = 10.0
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def available() -> bool:
    try:
        import audfprint2  # noqa: F401
    except ImportError:
        return False
    return True


class Peer:
    def __init__(self, catalog: list[tuple[str, str]]) -> None:
        """``catalog``: (external_id, audio path) pairs."""
        from audfprint2.core.analyzer import Analyzer
        from audfprint2.core.hash_table import HashTable
        from audfprint2.core.matcher import Matcher

        logging.getLogger("audfprint2").setLevel(logging.WARNING)
        self.an = Analyzer(density=20.0)
        self.ht = HashTable(hashbits=20, depth=100, maxtime=1 << 16)
        self.ids: list[str] = []
        for ext, path in catalog:
            self.an.ingest(self.ht, path)
            self.ids.append(ext)
        self.matcher = Matcher()
        self.matcher.window = 2
        self.matcher.threshcount = 5
        self.matcher.find_time_range = True
        self.hop_s = self.an.n_hop / self.an.target_sr

    def analyze(self, broadcast: Path, speed: float = 1.0, limit_s: float | None = None) -> list[Interval]:
        """Plays in the first ``limit_s`` of a broadcast file; ``speed`` is undone first when not 1."""
        with tempfile.TemporaryDirectory() as tmp:
            wav = Path(tmp) / "q.wav"
            # resample to 44.1 kHz first: asetrate relabels the rate the stream really has
            af = f"aresample=44100,asetrate=44100/{speed},aresample=11025"
            subprocess.run(
                [
                    "ffmpeg",
                    "-v",
                    "error",
                    "-y",
                    *(["-t", f"{limit_s}"] if limit_s else []),
                    "-i",
                    str(broadcast),
                    "-af",
                    af,
                    "-ac",
                    "1",
                    "-ar",
                    "11025",
                    str(wav),
                ],
                check=True,
            )
            hashes = self.an.wavfile2hashes(str(wav))
        # variant time = broadcast time * speed; the recording runs `speed` s per broadcast s
        frames_per_window = WINDOW_S * speed / self.hop_s
        last = int(hashes[:, 0].max() // frames_per_window) + 1 if len(hashes) else 0
        bounds = np.searchsorted(hashes[:, 0], np.arange(last + 1) * frames_per_window)
        segs: list[SegInfo] = []
        edges: dict[int, tuple[float, float]] = {}
        for k in range(last):
            w = hashes[bounds[k] : bounds[k + 1]]
            start = T0 + timedelta(seconds=k * WINDOW_S)
            match = None
            if len(w):
                res = self.matcher.match_hashes(self.ht, w)
                if len(res) and res[0][1] >= self.matcher.threshcount:
                    rid, count, skew, raw, _, t_min, t_max = (int(x) for x in res[0])
                    # recording frame at query frame q is q + skew
                    w0 = k * frames_per_window
                    offset = (w0 + skew) * self.hop_s
                    match = SegmentMatchInfo(rid, offset, start, rate_to_ppm(speed), count / max(raw, 1))
                    edges[k] = (t_min * self.hop_s / speed, (t_max + 1) * self.hop_s / speed)
            segs.append(SegInfo(k, start, start + timedelta(seconds=WINDOW_S), match))
        drafts = chain(segs)
        for d in drafts:
            first, last_seg = d.matched[0], d.matched[-1]
            d.start = T0 + timedelta(seconds=edges[first.id][0])
            d.end = T0 + timedelta(seconds=edges[last_seg.id][1])
        trim_overlaps(drafts)
        return [
            Interval(self.ids[d.recording_id], (d.start - T0).total_seconds(), (d.end - T0).total_seconds())
            for d in drafts
            if d.start and d.end
        ]
