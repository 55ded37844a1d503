"""Matcher performance: 10 s queries against catalogs of 1k, 10k and 100k recordings.

Catalog: every music track (≥ 30 s) of the allowed Debian packages, fingerprinted whole
with ``shared.chroma.fingerprint_pcm`` (the catalog's own code), plus synthetic recordings
up to the size: synthetic recording ``j`` is real track ``j mod T`` with every value XORed
with a fixed pseudo-random 32-bit mask drawn for ``j`` (seeded, so runs are identical).
This keeps a real recording's length, bit statistics and value-to-value structure, and
makes its values (and index keys) differ from every other recording's.
Limit: it spreads keys more evenly across recordings than a real catalog, where e.g.
quiet passages of different songs share keys; see max_postings in index.py.

Queries: the agent's own 10 s segments (shared.segmenter, one rate variant) of a 15 min
128 kbit/s MP3 made of wesnoth tracks, i.e. through MP3 encoding, decoding and
resampling; every one of them is in the catalog. Each query is timed three ways, single-
threaded, CPU time by ``time.process_time``: "exact" (``match_values``: index lookup,
voting, BER verification), "pipeline" (``match_variants``, what the worker and analyze run:
the exact search, then the multi-probe retry for a segment that found nothing) and, with
``--probe``, "retry" (the multi-probe search for every query).

    .venv/bin/python bench/matcher/run.py [--sizes 1000 10000 100000] [--queries 300] [--probe] [--repeat 3]
    .venv/bin/python bench/matcher/run.py --smoke   # seconds: 4 tracks, 100 and 1,000 recordings
    .venv/bin/python bench/matcher/run.py --answers /tmp/answers.json   # ... and check the answers

With ``--repeat N`` each search runs the queries N times and queries/s/core is that of the
fastest pass (on a shared machine, other jobs' use of the caches slows some passes); p50/p99
are over every pass. Every (size, search) row ends with a digest of its answers (recording,
offset, rate of each query's match, or none). ``--answers FILE`` keeps them: the first run
writes FILE, a later run compares its answers with it query by query and exits with status
1 if any differ, so a change meant to make the matcher faster can show it names the same
thing.

``--smoke`` (run by ``python -m bench.smoke``) checks that the script works, not its speed:
a catalog of the tracks in a 1-minute MP3 plus three more, 30 queries.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.music import CACHE, broadcast_mp3, broadcast_tracks, duration, pcm11k, real_segments, tracks
from collector.matching.index import CatalogIndex
from collector.matching.matcher import Match, match_values, match_variants
from shared.chroma import fingerprint_pcm
from shared.progress import Progress


def fingerprint_all(files: list[Path]) -> list[np.ndarray]:
    bar = Progress("fingerprinting the catalog", len(files), " tracks")
    out = []
    for path in files:
        bar.step(path.name)
        out.append(fingerprint_pcm(pcm11k(path), 11025))
    bar.done()
    return out


def real_catalog() -> list[np.ndarray]:
    cache = CACHE / "catalog-fingerprints.npz"
    if cache.exists():
        data = np.load(cache)
        return [data[k] for k in sorted(data.files, key=int)]
    out = fingerprint_all([p for p in tracks() if duration(p) >= 30])
    CACHE.mkdir(exist_ok=True)
    np.savez(cache, **{str(i): v for i, v in enumerate(out)})
    return out


def smoke_catalog(minutes: float) -> list[np.ndarray]:
    """The tracks of the ``minutes`` MP3 (every query has its recording) and three more."""
    played = broadcast_tracks(minutes)
    others = [p for p in tracks() if p not in played and duration(p) >= 30][:3]
    return fingerprint_all([*played, *others])


def build(real: list[np.ndarray], size: int, index_type: type = CatalogIndex) -> tuple[CatalogIndex, float]:
    """An index of ``size`` recordings: the real ones, then synthetic ones (see the docstring)."""
    rng = np.random.default_rng(20260101)
    masks = rng.integers(0, 2**32, size=size, dtype=np.uint64).astype(np.uint32)
    index = index_type()
    bar = Progress(f"building an index of {size:,} recordings", size)
    t0 = time.process_time()
    for j in range(size):
        if j % 1000 == 0:
            bar.update(j)
        base = real[j % len(real)]
        index.add(j + 1, base if j < len(real) else base ^ masks[j])
    index.build()
    cpu = time.process_time() - t0
    bar.done()
    return index, cpu


def make_queries(minutes: float, count: int) -> tuple[list[np.ndarray], int]:
    """``count`` queries: the agent's 10 s segments of the broadcast MP3, cycled; and how many differ."""
    segments = real_segments(broadcast_mp3(minutes), [0])
    queries = [np.frombuffer(s.fingerprints[0].values, dtype=np.uint32) for s in segments]
    queries = [q for q in queries if q.size >= 60]
    return (queries * (count // len(queries) + 1))[:count], len(queries)


Answer = tuple[int, int, int] | None


def answer(m: Match | None) -> Answer:
    return None if m is None else (m.recording_id, m.offset_values, m.rate_ppm)


def digest(answers: list[Answer]) -> str:
    return hashlib.sha256(json.dumps(answers).encode()).hexdigest()[:12]


def check_answers(path: Path, got: dict[str, list[Answer]]) -> bool:
    """Write ``got`` to ``path`` the first time; later, say which answers differ from it."""
    if not path.exists():
        path.write_text(json.dumps(got))
        print(f"answers written to {path}: rerun with the same --answers to compare")
        return True
    kept = {k: [tuple(a) if a else None for a in v] for k, v in json.loads(path.read_text()).items()}
    same = True
    for key, answers in got.items():
        if key not in kept:
            print(f"answers {key}: not in {path}, not compared")
            continue
        diff = [i for i, (a, b) in enumerate(zip(kept[key], answers, strict=True)) if a != b]
        if diff:
            same = False
            i = diff[0]
            first = f"query {i}: {kept[key][i]} then {answers[i]}"
            print(f"answers {key}: {len(diff)} of {len(answers)} differ ({first})")
    print(f"answers: {'same as' if same else 'NOT the same as'} {path}")
    return same


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--probe", action="store_true", help="also time the multi-probe retry search")
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    ap.add_argument(
        "--repeat", type=int, default=1, help="time the queries this many times, keep the fastest pass"
    )
    ap.add_argument("--answers", type=Path, help="keep the answers in this file, or compare with it")
    args = ap.parse_args()
    minutes = 15.0
    if args.smoke:
        minutes, args.sizes, args.queries = 1.0, [100, 1000], 30
    real = smoke_catalog(minutes) if args.smoke else real_catalog()
    queries, distinct = make_queries(minutes, args.queries)
    values_per_rec = sum(v.size for v in real) / len(real)
    print(
        f"{len(real)} real tracks (mean {values_per_rec / 8.07:.0f} s, {values_per_rec:.0f} values); "
        f"{len(queries)} queries ({distinct} distinct) of 10 s from a 128k MP3 of catalog tracks"
    )
    print(
        f"{'recordings':>10}{'build s':>9}{'index MB':>10}{'B/recording':>13}{'queries/s/core':>16}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'found':>7}{'max RSS MB':>12}  search    answers"
    )
    answers: dict[str, list[Answer]] = {}
    base_cost = None
    # "pipeline" is what the matching worker and analyze run for each segment (match_variants:
    # the exact-key search, then the multi-probe retry only when it found nothing); "exact" is
    # the first search alone; "retry" (--probe) the multi-probe search run for every query
    modes = ["exact", "pipeline"] + (["retry"] if args.probe else [])
    for size in args.sizes:
        index, build_s = build(real, size)
        costs: dict[str, float] = {}
        for mode in modes:

            def one(q: np.ndarray, mode: str = mode, idx: CatalogIndex = index) -> Match | None:
                if mode == "pipeline":
                    return match_variants(idx, [(0, q)])
                return match_values(idx, q, probe=mode == "retry")

            lat = []
            for q in queries[:10]:  # warm-up
                one(q)
            passes = []
            for _ in range(args.repeat):
                got: list[Answer] = []
                found = 0
                t_cpu = time.process_time()
                for q in queries:
                    t0 = time.perf_counter()
                    m = one(q)
                    lat.append(time.perf_counter() - t0)
                    got.append(answer(m))
                    found += m is not None and m.recording_id <= len(real)
                passes.append(time.process_time() - t_cpu)
            cpu = min(passes)
            costs[mode] = cpu
            qps = len(queries) / cpu
            lat_ms = np.array(lat) * 1000
            rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            answers[f"{size} {mode}"] = got
            print(
                f"{size:>10}{build_s:>9.1f}{index.nbytes / 2**20:>10.0f}{index.nbytes / size:>13.0f}"
                f"{qps:>16.0f}{np.percentile(lat_ms, 50):>8.2f}{np.percentile(lat_ms, 99):>8.2f}"
                f"{found / len(queries):>7.0%}{rss:>12.0f}  {mode:<10}{digest(got)}"
            )
        if size == 10000:
            base_cost = costs
        if size == 100000 and base_cost:
            ratios = ", ".join(f"{m} {costs[m] / base_cost[m]:.2f}x" for m in modes)
            print(f"cost per query 100k / 10k: {ratios}")
        del index
    print(
        "p50/p99: wall-clock latency of one query; "
        "found: queries matched to one of the real tracks (never to a synthetic one)"
    )
    if args.answers and not check_answers(args.answers, answers):
        sys.exit(1)


if __name__ == "__main__":
    main()
