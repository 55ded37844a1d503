"""Smoke runs of the benchmarks: every script under bench/ with ``--smoke``, its output checked.

    .venv/bin/python -m bench.smoke              # all of them, about 5 minutes (CI runs this)
    .venv/bin/python -m bench.smoke agent        # those whose name contains "agent"

A benchmark is run by hand, rarely, so it rots unseen: an import moves, a function starts
returning another type, and the next person to rerun it finds a traceback. A smoke runs each
script on tiny inputs (seconds, not minutes) and checks that its output still parses and has
the fields docs/benchmarks.md quotes. It never judges a timing or a size: those are measured
by the full runs, on a quiet machine. Every script with a ``__main__`` block must have a smoke
here; a new benchmark without one fails the run.

Why a runner here and not a pytest file under tests/: a benchmark is a program a user runs,
and its smoke runs it the same way (a subprocess, as ``python -m bench.x.y --smoke``), one
after the other so that none competes with another for the two cores (but for those marked
``aside``, which wait on the wall clock and use little CPU: they run beside the others, in a
thread, which takes their minute or so off the run's time); under ``./dev test``
they would run a second time beside the suite's pytest-xdist workers and its real-time
streams, and take the suite's time. The run ends with the plain ``N passed, N failed`` line.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUM = r"[-+]?\d+(?:\.\d+)?"


class SmokeFailure(Exception):
    pass


def expect(condition: object, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def numbers(line: str) -> list[float]:
    return [float(x) for x in re.findall(NUM, line)]


def row(out: str, label: str, count: int) -> list[float]:
    """The numbers of the one line of ``out`` that starts with ``label`` (after spaces)."""
    lines = [line for line in out.splitlines() if line.strip().startswith(label)]
    expect(len(lines) == 1, f"expected one line starting {label!r}, found {len(lines)}")
    values = numbers(lines[0][lines[0].index(label) + len(label) :])
    expect(len(values) >= count, f"{label!r}: expected {count} numbers, got {lines[0]!r}")
    return values


def header(out: str, *columns: str) -> None:
    lines = [line for line in out.splitlines() if all(c in line for c in columns)]
    expect(lines, f"no table header with the columns {columns}")


# -- one check per benchmark: its output as docs/benchmarks.md quotes it ----------------------


def check_matcher(out: str, _work: Path) -> None:
    header(out, "recordings", "build s", "index MB", "queries/s/core", "p50 ms", "p99 ms", "found")
    header(out, "search", "answers")
    # each row ends with a digest of its answers (recording, offset, rate of every query)
    rows = re.findall(
        rf"^\s*(\d+)((?:\s+{NUM}%?){{8}})\s+(exact|pipeline)\s+[0-9a-f]{{12}}$", out, re.MULTILINE
    )
    expect(
        {(int(r[0]), r[2]) for r in rows}
        == {(100, "exact"), (100, "pipeline"), (1000, "exact"), (1000, "pipeline")},
        f"matcher rows: {rows}",
    )
    for size, values, mode in rows:
        found = float(values.split()[6].rstrip("%"))
        # queries cut from catalog tracks: a matcher that finds few of them is broken
        expect(found >= 50, f"{size} recordings, {mode}: found {found} % of the queries")


def check_paired(out: str, _work: Path) -> None:
    header(out, "search", "code", "ratio")
    for label in ("pipeline  before", "pipeline  now", "exact     before", "exact     now"):
        values = row(out, label, 5)
        expect(all(v > 0 for v in values[:4]), f"{label}: {values}")
    # the tree against itself (--smoke's base is HEAD): answers must agree
    expect("answers: the same for every query and size" in out, "the two codes' answers differ")


def check_outbox(out: str, _work: Path) -> None:
    header(out, "payload B", "add rows/s", "read+ack rows/s", "station-days/h")
    for label in ("1 rate variant", "9 rate variants"):
        expect(row(out, label, 4)[1] > 0, f"{label}: no payload")


def check_ingest(out: str, _work: Path) -> None:
    for label in ("1 rate variant", "9 rate variants (sweep)"):
        expect("MB per station-day" in out.split(label, 1)[-1].splitlines()[0], f"no upload size for {label}")
    header(out, "segments/batch", "requests", "segments", "segments/s", "collector CPU s")
    sent = 0.0
    for size in (10, 50):
        values = row(out, f"{size} ", 6)
        expect(values[1] == values[0] * size, f"{size}-segment batches: {values}")
        sent += values[1]
    stored = re.search(r"rows in PostgreSQL: (\d+) segments, (\d+) fingerprints", out)
    expect(stored, "no 'rows in PostgreSQL' line")
    assert stored is not None
    expect(int(stored[1]) == sent == int(stored[2]), f"sent {sent:.0f} segments, stored: {stored[0]}")


def check_reports(out: str, _work: Path) -> None:
    result = json.loads(out)
    expect(result["plays"] == 3 * 31 * 10, f"plays: {result['plays']}")
    for key in ("airtime_month_all_stations", "playlist_station_month"):
        for field in ("p50_ms", "p95_ms", "max_ms", "n", "rows", "target_ms"):
            expect(isinstance(result[key][field], int | float), f"{key}.{field}: {result[key].get(field)}")
        expect(result[key]["rows"] > 0, f"{key}: no rows")
    run = result["airtime_running_month"]
    for field in ("p50_ms", "p95_ms", "max_ms", "n", "plays_per_minute", "target_ms"):
        expect(isinstance(run[field], int | float), f"airtime_running_month.{field}: {run.get(field)}")
    for key in ("insert_bulk", "insert_one_by_one"):
        for field in ("plays", "with_trigger_s", "without_trigger_s", "us_per_play", "slower_pct"):
            expect(isinstance(result[key][field], int | float), f"{key}.{field}: {result[key].get(field)}")
    for key in (
        "rollup_refresh_month_ms",
        "airtime_month_from_plays_ms",
        "playlist_xlsx_render_ms",
        "rollup_fold_minute_ms",
        "airtime_running_month_hour_unfolded_ms",
        "rollup_fold_hour_ms",
        "seed_s",
    ):
        expect(key in result, f"no {key}")


def check_partitions(out: str, _work: Path) -> None:
    result = json.loads(out)
    expect(result["segments"] == 10_000, f"segments: {result['segments']}")
    for key in ("seed_s", "migrate_s", "migrate_0014_s", "ensure_s", "retention_s"):
        expect(isinstance(result[key], int | float), f"{key}: {result.get(key)}")
    removed = result["retention_removed_segments"]
    expect(removed > 0 and result["left"]["segments"] == 10_000 - removed, f"retention: {result}")
    expect(result["left"]["segment_fingerprints"] == result["left"]["segments"], f"fingerprints: {result}")


def check_agent(out: str, _work: Path) -> None:
    header(out, "CPU s/h audio", "× real time/core", "÷ ffmpeg decode", "peak RSS MB", "anon MB")
    row(out, "ffmpeg -f null (decode only)", 5)
    row(out, "fpcalc -length 0 (decode + FP)", 5)
    row(out, "agent start-up (3 s clip)", 3)
    for label in ("1 rate", "9 rates"):
        row(out, f"agent 1 station(s), {label}", 7)


def check_live(out: str, _work: Path) -> None:
    expect("1 live HTTP stations, uploads to http://127.0.0.1:" in out, "no first line")
    samples = re.findall(rf"^\s+\d+ s\s+RSS\s+{NUM}\s+anon\s+{NUM}\s+peak\s+{NUM}$", out, re.MULTILINE)
    expect(len(samples) == 3, f"expected 3 RSS samples, got {samples}")
    expect(
        re.search(
            rf"^peak RSS {NUM} MB over 6 s; segments received by the collector: \d+$", out, re.MULTILINE
        ),
        "no peak line",
    )


def check_pcm_helper(out: str, _work: Path) -> None:
    header(out, "per 0.25 s block", "µs", "CPU s per station-hour")
    for label in (
        "sum of squares, 2,756 int16, C",
        "sum of squares, Python fallback",
        "stereo mixdown, 2 x 11,025 float32, C",
        "stereo mixdown, in Python",
    ):
        row(out, label, 2)


def check_accuracy(out: str, work: Path) -> None:
    header(out, "station profile", "true plays", "recall", "precision", "airtime ratio", "meets targets")
    results = json.loads((work / "results.json").read_text())
    expect(
        set(results["targets"]) == {"recall", "precision", "p90_s", "airtime"},
        f"targets: {results['targets']}",
    )
    ours = {r["profile"]: r["score"] for r in results["results"] if r["system"] == "sodav"}
    expect(set(ours) == {"studio", "fm-fast"}, f"profiles: {sorted(ours)}")
    for profile, score in ours.items():
        expect(score["truth"] > 0, f"{profile}: the programme has no catalog song")
        for field in ("detected", "recall", "precision", "start_p90", "end_p90", "airtime_ratio"):
            expect(field in score, f"{profile}: no {field}")
        expect(
            f"| {profile} | sodav-collector analyze | {score['truth']} |" in out, f"{profile}: no table row"
        )


def check_fuzz(out: str, _work: Path) -> None:
    header(out, "database", "role", "requests", "2xx", "4xx", "server errors")
    rows = re.findall(
        r"^(sqlite|postgresql)\s+(admin|analyst|agent|none)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", out, re.M
    )
    # the smoke fuzzes one database with one role (bench/fuzz/run.py: --smoke)
    expect({(r[0], r[1]) for r in rows} == {("postgresql", "admin")}, f"fuzz rows: {rows}")
    for db, role, requests, _ok, _refused, errors in rows:
        expect(int(requests) > 0, f"{db}/{role}: no request reached the collector")
        # not a timing: a server error is a bug the fuzzer found
        expect(int(errors) == 0, f"{db}/{role}: {errors} server errors")
    expect(re.search(r"^total: \d+ requests, 0 server errors", out, re.M), "no total line")


def check_music(out: str, work: Path) -> None:
    header(
        out,
        "station profile",
        "excerpts on music",
        "excerpts on speech/ads",
        "songs covered",
        "songs with an excerpt",
    )
    for profile in ("studio", "fm-fast"):
        lines = [line for line in out.splitlines() if line.startswith(f"| {profile} |")]
        expect(len(lines) == 2, f"{profile}: expected a row in each table, got {lines}")
        values = numbers(lines[0].split("|", 2)[2])
        expect(len(values) >= 10, f"{profile}: {lines[0]}")
        expect(values[1] + values[3] == values[0], f"{profile}: excerpts do not add up to spans: {values}")
    header(out, "AcoustID named, detected spans", "exact song extents")
    results = json.loads((work / "music.json").read_text())
    expect({r["profile"] for r in results["results"]} == {"studio", "fm-fast"}, "music.json: profiles")
    for r in results["acoustid"]:
        expect(set(r) >= {"whole", "partial", "exact whole", "exact partial"}, f"acoustid: {r}")


def check_replay(out: str, _work: Path) -> None:
    header(out, "station profile", "true plays", "recall", "precision", "meets targets")
    for profile in ("studio", "fm-fast"):
        expect(f"| {profile} | play assembly replayed" in out, f"{profile}: no replayed row")


def check_seeds(out: str, _work: Path) -> None:
    line = re.search(r"^error rate of each bit.*\n  (.*)$", out, re.M)
    expect(line and len(numbers(line.group(1))) == 32, "no error rate for each of the 32 bits")
    header(out, "key bits", "radius", "top two any", "keys a value", "windows", "true pair's votes")
    rows = re.findall(r"^\| (24|20|16) \| [012] \| (?:yes|no) \| \d+ \| [36] \|", out, re.M)
    expect(len(rows) == 18, f"key-search rows: {len(rows)}")
    for name in ("ONE_BIT", "TOP_ANY"):
        expect(
            re.search(rf"^100 recordings, {name} \(\d+ keys a value\): {NUM} ms CPU a query", out, re.M), name
        )


def check_faint(out: str, _work: Path) -> None:
    null = r"^unrelated audio: [1-9]\d* hypotheses, \d+ windows, mean 0\.\d+"
    expect(re.search(null, out, re.M), "no null")
    for k in (2, 12):
        expect(re.search(rf"^  {k} windows: lowest mean {NUM}", out, re.M), f"no {k}-window mean")
    for name in ("window_llr", "faint_llr"):
        expect(re.search(rf"^  {name}: \d+ hypotheses reach {NUM}", out, re.M), f"no {name} line")
    expect(re.search(r"^anchors: \d+ pairs in step .*; \d+ true pairs", out, re.M), "no anchors line")


def check_evidence(out: str, _work: Path) -> None:
    for profile in ("studio", "fm-fast"):
        heading = rf"^## \S+ {profile} \(rate -?\d+ ppm, \d+ segments\)$"
        expect(re.search(heading, out, re.M), f"{profile}: no section")
    expect(re.search(r"^  null: n=\d+ mean 0\.\d+", out, re.M), "no BER of unrelated audio")
    expect(re.search(r"^  sequential test: \d+ windows named", out, re.M), "no sequential test line")


def check_week(out: str, work: Path) -> None:
    header(out, "measure", "value", "target")
    for label in (
        "| recurring unknown airtime named",
        "| lookups per distinct unknown song",
        "| paid lookups on speech or ads",
        "| AudD requests per station-day after the week",
        "| month's AudD cost for 300 stations",
    ):
        row(out, label, 1)
    result = json.loads((work / "week.json").read_text())
    expect(0 <= result["named_share"] <= 1, f"week.json: named_share {result['named_share']}")
    expect(result["pool_songs_aired"] >= 1, "week.json: no recurring unknown song aired")
    expect(result["clusters_looked_up"] >= 1, "week.json: nothing looked up")


def check_load(out: str, work: Path) -> None:
    header(out, "part", "CPU s", "CPU ms per segment", "cores per 100 stations", "cores for 10,000 stations")
    for part in (
        "collectors (2 serve)",
        "workers (2)",
        "PostgreSQL",
        "Redis",
        "nginx",
        "simulator",
        "all parts",
    ):
        row(out, f"| {part}", 5)
    result = json.loads((work / "load.json").read_text())
    segments = result["segments"]
    # not a timing: a 5xx, a lost or a doubled segment is a bug the load found
    expect(result["server_errors"] == 0, f"server errors: {result['requests']}")
    expect(segments["sent"] > 0, "no segment sent")
    expect(segments["sent"] == segments["stored"] == segments["stored_rows"], f"segments: {segments}")
    expect(segments["stations_lost"] == segments["stations_doubled"] == 0, f"segments: {segments}")
    expect(result["lag_s"]["n"] == segments["stored"], f"lag measured for {result['lag_s']['n']} segments")
    for field in ("p50", "p99", "max", "steady_p99"):
        expect(field in result["lag_s"], f"no lag {field}")


def check_worker(out: str, work: Path) -> None:
    result = json.loads((work / "worker.json").read_text())
    expect(result["segments"] > 0 and result["plays"] > 0, f"no segment or no play: {result}")
    expect(len(result["plays_digest"]) == 16, "no digest of the plays")
    for period in result["periods"]:
        for field in ("airtime_min", "segments", "cycle_ms_per_segment", "closing_ms_per_segment"):
            expect(field in period, f"no {field} in {period}")


@dataclass(frozen=True)
class Smoke:
    module: str  # bench.matcher.run
    check: Callable[[str, Path], None]  # (standard output, work directory)
    args: tuple[str, ...] = ()  # "{work}" is replaced by a fresh temporary directory
    # tools that read what this one wrote in {work}: (module, args, check), run after it
    then: tuple[tuple[str, tuple[str, ...], Callable[[str, Path], None]], ...] = ()
    # runs beside the others: it waits on the wall clock (a simulated minute), using little CPU
    aside: bool = False

    @property
    def paths(self) -> list[Path]:
        return [ROOT / (m.replace(".", "/") + ".py") for m in (self.module, *(t[0] for t in self.then))]


SMOKES = [
    Smoke("bench.agent.pcm_helper", check_pcm_helper),
    Smoke("bench.outbox.run", check_outbox, ("--dir", "{work}")),
    Smoke("bench.matcher.run", check_matcher),
    Smoke("bench.matcher.paired", check_paired),
    Smoke("bench.agent.run", check_agent),
    Smoke("bench.agent.live", check_live),
    Smoke("bench.ingest.run", check_ingest),
    Smoke("bench.fuzz.run", check_fuzz),
    Smoke("bench.reports.run", check_reports),
    Smoke("bench.partitions.run", check_partitions),
    Smoke(
        "bench.accuracy.run",
        check_accuracy,
        ("--out", "{work}"),
        then=(
            ("bench.accuracy.replay", ("--out", "{work}", "--profiles", "studio,fm-fast"), check_replay),
            ("bench.accuracy.evidence", ("--out", "{work}", "--profiles", "studio,fm-fast"), check_evidence),
            ("bench.matcher.seeds", ("{work}/studio", "--cost", "100"), check_seeds),
            ("bench.accuracy.faint", ("--out", "{work}", "--profiles", "studio,fm-fast"), check_faint),
        ),
    ),
    Smoke("bench.accuracy.music", check_music, ("--out", "{work}")),
    Smoke("bench.recognizers.week", check_week, ("--out", "{work}")),
    Smoke("bench.load.run", check_load, ("--out", "{work}"), aside=True),
    Smoke("bench.worker.run", check_worker, ("--out", "{work}")),
]


def scripts() -> list[Path]:
    """Every benchmark program: a module under bench/ with a ``__main__`` block."""
    return sorted(
        p
        for p in (ROOT / "bench").rglob("*.py")
        if p != Path(__file__).resolve() and "__main__" in p.read_text()
    )


def run(smoke: Smoke) -> tuple[bool, str]:
    with tempfile.TemporaryDirectory(prefix="sodav-smoke-") as tmp:
        work = Path(tmp)
        steps = [(smoke.module, ("--smoke", *smoke.args), smoke.check), *smoke.then]
        for module, raw_args, check in steps:
            args = [a.replace("{work}", tmp) for a in raw_args]
            ok, why = _step(module, args, check, work)
            if not ok:
                return False, why if module == smoke.module else f"{module}: {why}"
    return True, ""


def _said(ok: bool, why: str, took: float) -> None:
    print(f"{'ok' if ok else 'FAILED'} ({took:.0f} s)", flush=True)
    if not ok:
        print("    " + why.replace("\n", "\n    "), flush=True)


def _timed(smoke: Smoke) -> tuple[bool, str, float]:
    t = time.monotonic()
    ok, why = run(smoke)
    return ok, why, time.monotonic() - t


def _step(module: str, args: list[str], check: Callable[[str, Path], None], work: Path) -> tuple[bool, str]:
    cmd = [sys.executable, "-m", module, *args]
    with (work / "stderr.log").open("w+b") as err:
        try:
            done = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=err, timeout=600, check=False)
        except subprocess.TimeoutExpired:
            return False, "did not finish in 10 min"
        err.seek(0)
        tail = err.read()[-3000:].decode(errors="replace")
    out = done.stdout.decode(errors="replace")
    if done.returncode:
        return False, f"exit status {done.returncode}; its stderr ends:\n{tail}"
    try:
        check(out, work)
    except (SmokeFailure, KeyError, ValueError, IndexError) as exc:
        return False, f"its output does not parse: {type(exc).__name__}: {exc}\n--- stdout:\n{out[-3000:]}"
    return True, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.smoke", description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*", help="run only the benchmarks whose module contains one of these")
    args = ap.parse_args(argv)
    covered = {p for s in SMOKES for p in s.paths}
    uncovered = [str(p.relative_to(ROOT)) for p in scripts() if p not in covered]
    chosen = [s for s in SMOKES if not args.names or any(n in s.module for n in args.names)]
    t_all = time.monotonic()
    results: dict[int, tuple[bool, str, float]] = {}
    aside: list[tuple[int, threading.Thread]] = []
    for i, smoke in enumerate(chosen, 1):
        if smoke.aside:
            thread = threading.Thread(target=lambda i=i, s=smoke: results.update({i: _timed(s)}), daemon=True)
            thread.start()
            aside.append((i, thread))
            print(
                f"[{i}/{len(chosen)}] python -m {smoke.module} --smoke: started, beside the others",
                flush=True,
            )
    for i, smoke in enumerate(chosen, 1):
        if not smoke.aside:
            print(f"[{i}/{len(chosen)}] python -m {smoke.module} --smoke ...", end=" ", flush=True)
            results[i] = _timed(smoke)
            _said(*results[i])
    for i, thread in aside:
        print(f"[{i}/{len(chosen)}] python -m {chosen[i - 1].module} --smoke ...", end=" ", flush=True)
        thread.join()
        _said(*results.get(i, (False, "its thread ended without a result", 0.0)))
    passed = sum(ok for ok, _why, _took in results.values())
    failed = len(chosen) - passed
    for path in uncovered:
        failed += 1
        print(f"{path}: a benchmark without a smoke: give it --smoke and a check in bench/smoke.py")
    print(f"bench smokes: {time.monotonic() - t_all:.0f} s")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
