"""Seed search at a faint song's bit error rate: can a key search find its true alignment?

For one song of a finished ``bench.accuracy.run`` station (its ``collector-NAME.db`` and
``truth.csv``), at the truth's alignment and the station's rate (the rate most of its matches
were found at):

1. where the bit errors of the song's 10-s windows fall: per bit, how many of its values keep
   their index key (the top K bits) within r bits, and whether the query's own unstable bits
   (those that differ from the value before or after it) are the wrong ones;
2. for every span of 3 and 6 windows inside the song, the votes its true (recording, offset)
   gets from several key searches (the top K bits, every key within r bits of the value's own,
   the top two bits maybe taking any code: the seed step's search,
   :func:`collector.plays.sequential._proposals`, is K=24, r=1),
   the best chance pair's votes and how many chance pairs get as many as the true one; and the
   best chance pair's votes in every span outside the catalog's songs (off-catalog music,
   speech, jingles). Chance pairs grow with the catalog (about 1,000 times more at 100k
   recordings than at the benchmark's 100); the true one's votes do not.

With ``--cost SIZE ...``, also the seed step's catalog query (``verified(..., probe=True,
max_ber=SEED_MAX_BER)``) timed on every 3-window span of the station, one bit away
(``ONE_BIT``, the seed search before issue #17's fix) and with the top two bits any
(``TOP_ANY``, since), against catalogs of SIZE recordings built as ``run.py`` builds them
(recording j is the station's catalog recording j mod R, every value XORed with a fixed
random mask from R on): CPU per query, the fastest of three passes.

Reads the database read-only (any schema revision); writes nothing.

    .venv/bin/python bench/matcher/seeds.py /tmp/acc4-s8/am-minus4 BENCH-0073 --name final
    .venv/bin/python bench/matcher/seeds.py /tmp/acc4-s8/am-minus4 BENCH-0073 --name final --cost 10000 100000

Its smoke (``python -m bench.smoke``) runs it on the accuracy smoke's ``studio`` station, its
longest song, ``--cost 100``.
"""

from __future__ import annotations

import argparse
import csv
import itertools
import sqlite3
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.accuracy.run import T0
from bench.matcher.run import build
from collector.fpmath import aligned_ber, bit_errors
from collector.matching.index import ONE_BIT, TOP_ANY
from collector.matching.matcher import verified
from collector.plays.sequential import QUERY_SEGMENTS, SEED_MAX_BER
from shared.chroma import item_duration
from shared.codec import decode

U32 = npt.NDArray[np.uint32]
# (key bits, probe radius, the top two bits any): the top two bits are Chromaprint's first
# classifier, a plain sum over the chroma image (the others are differences), which hiss moves
SCHEMES = ((24, 0, False), (24, 1, False), (24, 2, False), (24, 1, True), (24, 2, True), (20, 1, False))
SCHEMES += ((20, 2, False), (16, 1, False), (16, 2, False))
SPANS = (3, 6)
MAX_POSTINGS = 2000  # as the index: very common keys carry no information
WINDOW_S = 10.0


@dataclass
class Station:
    rate: int
    refs: dict[int, U32]
    ids: dict[str, int]  # external id -> recording id
    windows: list[tuple[float, datetime, U32]]  # broadcast seconds, first value's time, values at the rate
    songs: list[tuple[str, float, float, float]]  # truth: external id, start, end, recording offset (s)


def load(sdir: Path, name: str) -> Station:
    db, truth = sdir / f"collector-{name}.db", sdir / "truth.csv"
    if not db.exists() or not truth.exists():
        raise SystemExit(
            f"no {db.name} or truth.csv in {sdir}: run python -m bench.accuracy.run --name {name} first"
        )
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)  # no -wal, -shm beside it
    (rate,) = con.execute(
        "SELECT rate_ppm FROM segment_matches GROUP BY rate_ppm ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()
    refs, ids = {}, {}
    for rid, ext, blob in con.execute("SELECT id, external_id, fingerprint FROM recordings"):
        refs[rid], ids[ext] = decode(blob).values, rid
    windows = []
    for start, blob in con.execute(
        "SELECT s.start, f.data FROM segments s JOIN segment_fingerprints f ON f.segment_id = s.id "
        "WHERE f.rate_ppm = ? ORDER BY s.start",
        (rate,),
    ):
        fp = decode(blob)
        t = (datetime.fromisoformat(start).replace(tzinfo=UTC) - T0).total_seconds()
        windows.append((t, fp.start, fp.values))
    with truth.open(newline="") as fh:
        songs = [
            (r["external_id"], float(r["start_s"]), float(r["end_s"]), float(r["offset_s"]))
            for r in csv.DictReader(fh)
            if r["kind"] == "song"
        ]
    return Station(rate, refs, ids, windows, songs)


def true_offset(st: Station, song: tuple[str, float, float, float], at: datetime, values: U32) -> int:
    """The recording position aligned with ``values[0]`` (first value at ``at``): the truth's,
    best of ±2 values (the agent's frames fall where they fall)."""
    ext, start, _, offset = song
    pos = round((offset + ((at - T0).total_seconds() - start) * (1 + st.rate / 1e6)) / item_duration(0))
    ref = st.refs[st.ids[ext]]
    return min(range(pos - 2, pos + 3), key=lambda o: aligned_ber(values, ref, o)[0])


def spans(st: Station, n: int, inside: tuple[str, float, float, float] | None) -> list[tuple[datetime, U32]]:
    """Every run of ``n`` contiguous windows wholly inside the song ``inside``, or (None) wholly
    outside every catalog song: (first value's time, the values)."""
    out = []
    for i in range(len(st.windows) - n + 1):
        run = st.windows[i : i + n]
        t0, t1 = run[0][0], run[-1][0] + WINDOW_S
        if t1 - t0 > n * WINDOW_S + 2:
            continue
        if inside is not None:
            ok = inside[1] <= t0 and t1 <= inside[2]
        else:
            ok = all(e <= t0 or t1 <= s for _, s, e, _ in st.songs)
        if ok:
            out.append((run[0][1], np.concatenate([w[2] for w in run])))
    return out


def bits_of(x: U32) -> npt.NDArray[np.uint32]:
    """One row per value, one column per bit, most significant first."""
    return (x[:, None] >> np.arange(31, -1, -1, dtype=np.uint32)[None, :]) & np.uint32(1)


def errors(st: Station, ext: str) -> None:
    """Part 1: where the song's bit errors fall at the true alignment."""
    xs, unstable, bers = [], [], []
    for song in (s for s in st.songs if s[0] == ext):
        for t, at, v in st.windows:
            if not (song[1] <= t and t + WINDOW_S <= song[2]):
                continue
            ref = st.refs[st.ids[ext]]
            off = true_offset(st, song, at, v)
            q0 = max(0, -off)
            n = min(v.size - q0, ref.size - off - q0)
            x = v[q0 : q0 + n] ^ ref[off + q0 : off + q0 + n]
            u = np.zeros_like(v)
            u[1:] |= v[1:] ^ v[:-1]
            u[:-1] |= v[:-1] ^ v[1:]
            xs.append(x)
            unstable.append(u[q0 : q0 + n])
            bers.append(f"{t:.0f} s {float(bit_errors(x, np.zeros_like(x)).mean()) / 32:.2f}")
    if not xs:
        raise SystemExit(f"{ext}: no 10-s window wholly inside its plays in truth.csv")
    x, u = np.concatenate(xs), np.concatenate(unstable)
    print(
        f"{ext} at the truth's alignment, rate {st.rate} ppm, {x.size} values; windows' BER:", ", ".join(bers)
    )
    print("error rate of each bit, 31 (most significant) .. 0:")
    print("  " + " ".join(f"{p:.2f}" for p in bits_of(x).mean(axis=0)))
    for k in (24, 20, 16):
        e = np.bitwise_count(x >> np.uint32(32 - k))
        share = " ".join(f"<={r}: {float((e <= r).mean()):.4f}" for r in range(4))
        print(f"values whose top {k} bits are within r bits of the reference's: {share}")
    kx, ku = x >> np.uint32(8), u >> np.uint32(8)
    on_unstable, wrong = int(np.bitwise_count(kx & ku).sum()), int(np.bitwise_count(kx).sum())
    n_unstable = int(np.bitwise_count(ku).sum())
    outside = np.bitwise_count(kx & ~ku & np.uint32(0xFFFFFF))
    print(
        f"key bits unstable in the query (differ from t-1 or t+1): {n_unstable / x.size:.1f} a value; "
        f"{on_unstable / wrong:.2f} of the key's wrong bits are among them; an unstable key bit is wrong "
        f"{on_unstable / n_unstable:.2f} of the time, a stable one "
        f"{(wrong - on_unstable) / (24 * x.size - n_unstable):.2f}; "
        f"values with at most 0/1/2 wrong key bits outside the unstable ones: "
        + "/".join(f"{float((outside <= r).mean()):.4f}" for r in range(3))
    )


class Keys:
    """The catalog's postings keyed by the top ``bits`` bits of each value (the index's layout)."""

    def __init__(self, refs: dict[int, U32], bits: int) -> None:
        self.shift = np.uint32(32 - bits)
        rids = sorted(refs)
        keys = np.concatenate([refs[r] >> self.shift for r in rids])
        packed = np.concatenate(
            [(np.int64(r) << 32) + (1 << 31) + np.arange(refs[r].size, dtype=np.int64) for r in rids]
        )
        order = np.argsort(keys, kind="stable")
        self.keys, self.postings = keys[order], packed[order]

    def votes(self, values: U32, masks: U32) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.intp]]:
        """Each (recording, offset) pair voted for, packed as the index packs them, and its votes."""
        qk = ((values >> self.shift)[None, :] ^ masks[:, None]).ravel()
        qpos = np.tile(np.arange(values.size), masks.size)
        lo, hi = np.searchsorted(self.keys, qk, "left"), np.searchsorted(self.keys, qk, "right")
        keep = (hi > lo) & (hi - lo <= MAX_POSTINGS)
        lo, counts = lo[keep], (hi - lo)[keep]
        ends = np.cumsum(counts)
        idx = np.repeat(lo - (ends - counts), counts) + np.arange(int(counts.sum()))
        uniq, n = np.unique(self.postings[idx] - np.repeat(qpos[keep], counts), return_counts=True)
        return uniq, n


def probe_masks(bits: int, radius: int, top_any: bool) -> U32:
    """Every key within ``radius`` bits of the value's own; with ``top_any``, of the bits below
    the top two, the top two taking each of their four codes."""
    low = bits - 2 if top_any else bits
    near = [sum(1 << b for b in c) for r in range(radius + 1) for c in itertools.combinations(range(low), r)]
    tops = [t << low for t in range(4)] if top_any else [0]
    return np.array([t | m for t in tops for m in near], dtype=np.uint32)


def votes(st: Station, ext: str) -> None:
    """Part 2: the true pair's votes against chance ones, for each key search and span."""
    rid = st.ids[ext]
    print(
        "| key bits | radius | top two any | keys a value | windows | true pair's votes | best chance pair "
        "| chance pairs with as many | off-catalog spans: best chance, max / median |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for bits, radius, top_any in SCHEMES:
        keys, masks = Keys(st.refs, bits), probe_masks(bits, radius, top_any)
        for n in SPANS:
            true_v, chance_v, ahead = [], [], []
            for song in (s for s in st.songs if s[0] == ext):
                for at, v in spans(st, n, song):
                    uniq, c = keys.votes(v, masks)
                    off = true_offset(st, song, at, v)
                    is_true = np.isin(uniq, [(np.int64(rid) << 32) + (1 << 31) + off + d for d in (-1, 0, 1)])
                    t = int(c[is_true].max()) if is_true.any() else 0
                    true_v.append(t)
                    chance_v.append(int(c[~is_true].max(initial=0)))
                    ahead.append(int((c[~is_true] >= max(t, 1)).sum()))
            null = [int(keys.votes(v, masks)[1].max(initial=0)) for _, v in spans(st, n, None)]
            print(
                f"| {bits} | {radius} | {'yes' if top_any else 'no'} | {masks.size} | {n} "
                f"| {true_v} | {chance_v} | {ahead} | "
                f"{max(null, default=0)} / {int(np.median(null)) if null else 0} ({len(null)} spans) |",
                flush=True,
            )


def cost(st: Station, ext: str, sizes: list[int]) -> None:
    """The seed query's CPU per 30-s span, both probe sets, at each catalog size; and in how
    many of the song's spans it proposes the song's true alignment (±1 value)."""
    queries = [v for _, v in spans(st, QUERY_SEGMENTS, None)]
    queries += [v for song in st.songs for _, v in spans(st, QUERY_SEGMENTS, song)]
    ours = [
        (v, true_offset(st, song, at, v))
        for song in st.songs
        if song[0] == ext
        for at, v in spans(st, QUERY_SEGMENTS, song)
    ]
    rids = sorted(st.refs)
    real = [st.refs[r] for r in rids]
    own = rids.index(st.ids[ext]) + 1  # run.build's id of the real recording
    print(
        f"seed queries: {len(queries)} spans of {QUERY_SEGMENTS} windows, "
        f"{np.mean([q.size for q in queries]):.0f} values each"
    )
    for size in sizes:
        index, _ = build(real, size)
        for name, flips in (("ONE_BIT", ONE_BIT), ("TOP_ANY", TOP_ANY)):
            best, found = float("inf"), 0
            for _ in range(3):
                t0 = time.process_time()
                found = sum(bool(verified(index, q, st.rate, True, SEED_MAX_BER, flips)) for q in queries)
                best = min(best, (time.process_time() - t0) / len(queries))
            hits = sum(
                any(
                    m.recording_id == own and abs(m.offset_values - off) <= 1
                    for m in verified(index, v, st.rate, True, SEED_MAX_BER, flips)
                )
                for v, off in ours
            )
            print(
                f"{size:,} recordings, {name} ({flips.size + 1} keys a value): "
                f"{best * 1e3:.2f} ms CPU a query; "
                f"{found} of {len(queries)} queries with a candidate within {SEED_MAX_BER}; "
                f"{ext} proposed at its alignment in {hits} of its {len(ours)} spans",
                flush=True,
            )
        del index


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="bench/matcher/seeds.py", description=__doc__.split("\n")[0])
    p.add_argument("station", type=Path, help="a station directory of a bench.accuracy.run --out directory")
    p.add_argument(
        "external_id", nargs="?", help="the song's external id (truth.csv; default: its longest catalog song)"
    )
    p.add_argument("--name", default="results", help="the run's name (its collector-NAME.db)")
    p.add_argument(
        "--cost",
        type=int,
        nargs="*",
        default=[],
        metavar="SIZE",
        help="time the seed query at these catalog sizes",
    )
    args = p.parse_args(argv)
    st = load(args.station, args.name)
    if not st.songs:
        raise SystemExit(f"no catalog song in {args.station / 'truth.csv'}")
    args.external_id = args.external_id or max(st.songs, key=lambda s: s[2] - s[1])[0]
    if args.external_id not in st.ids or all(s[0] != args.external_id for s in st.songs):
        raise SystemExit(f"{args.external_id}: not a catalog song of {args.station / 'truth.csv'}")
    errors(st, args.external_id)
    votes(st, args.external_id)
    cost(st, args.external_id, args.cost)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
