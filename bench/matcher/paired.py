"""Matcher: an earlier commit's code against the working tree's, timed in one process.

Two runs of ``run.py`` on a shared machine differ by what the other jobs did meanwhile: the
same code gave 10k→100k ratios of 1.87× and 3.22× ten minutes apart. Here both codes search
the same catalogs with the same queries in one process, their passes alternating (before,
now, now, before, ...), so a busy minute slows both. Each figure is CPU time per query
(``time.process_time``), the fastest pass and the median; both codes must give every query
the same answer (recording, offset), or the script says so and exits with status 1.

The earlier code is the commit's ``collector/matching/index.py`` and ``matcher.py``, read
with ``git show`` into a temporary package; whatever else they import (``shared.chroma``,
``collector.fpmath``) is the working tree's. The catalogs and queries are ``run.py``'s.

    .venv/bin/python bench/matcher/paired.py --base 2b8c377      # 1k, 10k, 100k; 6 passes
    .venv/bin/python bench/matcher/paired.py --smoke             # HEAD against itself, in seconds
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.matcher.run import build, make_queries, real_catalog, smoke_catalog
from collector.matching import index as now_index
from collector.matching import matcher as now_matcher
from shared.progress import Progress

ROOT = Path(__file__).resolve().parents[2]
FILES = ("index.py", "matcher.py")
Search = Callable[[Any, np.ndarray], Any]  # (index, query) -> Match | None


def base_code(commit: str, into: Path) -> tuple[ModuleType, ModuleType]:
    """The commit's index and matcher modules, importable as ``matcher_base``."""
    package = into / "matcher_base"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for name in FILES:
        try:
            text = subprocess.run(
                ["git", "show", f"{commit}:collector/matching/{name}"],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        except subprocess.CalledProcessError as exc:
            sys.exit(f"paired: cannot read collector/matching/{name} at {commit}: {exc.stderr.strip()}")
        (package / name).write_text(text.replace("collector.matching.", "matcher_base."))
    sys.path.insert(0, str(into))
    from matcher_base import index, matcher  # written just above

    return index, matcher


def searches(matcher: ModuleType) -> dict[str, Search]:
    return {
        "pipeline": lambda ix, q: matcher.match_variants(ix, [(0, q)]),
        "exact": lambda ix, q: matcher.match_values(ix, q),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="HEAD", help="the earlier commit (default HEAD: the tree itself)")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 100000])
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--passes", type=int, default=6)
    ap.add_argument("--smoke", action="store_true", help="tiny inputs: checks that it runs, in seconds")
    args = ap.parse_args()
    minutes = 15.0
    if args.smoke:
        minutes, args.sizes, args.queries, args.passes = 1.0, [100, 1000], 30, 2
    real = smoke_catalog(minutes) if args.smoke else real_catalog()
    queries, _ = make_queries(minutes, args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        base_index, base_matcher = base_code(args.base, Path(tmp))
        codes: dict[str, tuple[type, dict[str, Search]]] = {
            "before": (base_index.CatalogIndex, searches(base_matcher)),
            "now": (now_index.CatalogIndex, searches(now_matcher)),
        }
        cpu: dict[tuple[str, str, int], list[float]] = {}
        same = True
        for size in args.sizes:
            indexes = {code: build(real, size, index_type)[0] for code, (index_type, _) in codes.items()}
            answers = {}
            for code, (_, by_mode) in codes.items():
                found = [by_mode["pipeline"](indexes[code], q) for q in queries]
                answers[code] = [None if m is None else (m.recording_id, m.offset_values) for m in found]
            if answers["before"] != answers["now"]:
                same = False
                differ = sum(a != b for a, b in zip(answers["before"], answers["now"], strict=True))
                print(f"{size} recordings: {differ} of {len(queries)} answers differ")
            bar = Progress(f"timing {size:,} recordings", args.passes, " passes")
            for p in range(args.passes):
                bar.update(p)
                for code in ("before", "now") if p % 2 == 0 else ("now", "before"):
                    for mode, search in codes[code][1].items():
                        t0 = time.process_time()
                        for q in queries:
                            search(indexes[code], q)
                        cpu.setdefault((code, mode, size), []).append(
                            (time.process_time() - t0) / len(queries) * 1000
                        )
            bar.done()
            del indexes
    print(f"CPU ms per query, fastest pass (median) of {args.passes}; before = {args.base}")
    print(f"{'search':<10}{'code':<8}" + "".join(f"{s:>18,}" for s in args.sizes) + "   ratio")
    for mode in ("pipeline", "exact"):
        for code in ("before", "now"):
            times = [cpu[(code, mode, s)] for s in args.sizes]
            cells = "".join(f"{min(t):>9.3f} ({np.median(t):.3f})" for t in times)
            big, small = args.sizes[-1], args.sizes[-2]
            ratio = min(times[-1]) / min(times[-2])
            print(f"{mode:<10}{code:<8}{cells}   {ratio:.2f}x ({small:,}→{big:,})")
    print(f"answers: {'the same' if same else 'NOT the same'} for every query and size")
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
