"""The collector's own counters and histograms: what one process did since it started.

Prometheus-client instruments, counted where the work happens (a request, a matching cycle, a
delivery). Facts the database holds (queue depth, station states, plays per hour) are not
here: :mod:`collector.metrics` reads them at scrape time, so every process reports the same.

Several processes on one host (uvicorn workers, ``sodav-collector worker``) add up their
counters when they share ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode,
set in the environment before the program starts): ``/metrics`` then sums them all. Only
counters and histograms live here, which that mode adds up without further choices.

What each metric means: docs/ops/monitoring.md.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = [
    "AUTH_FAILURES",
    "HTTP_SECONDS",
    "MATCHING_DELAY",
    "MATCH_CYCLE_SECONDS",
    "NOTIFY_DELIVERIES",
    "NOTIFY_SECONDS",
    "RECOGNIZER_REQUESTS",
    "REDIS_FAILURES",
    "REPORT_CACHE",
    "REPORT_JOBS",
    "RETENTION_DROPPED",
    "SEGMENTS_MATCHED",
    "SEGMENTS_RECEIVED",
    "UPLOADS",
    "WORKER_FAILURES",
    "report_job",
    "upload_received",
]

_FAST = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_SLOW = (0.1, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)

HTTP_SECONDS = Histogram(
    "sodav_http_request_duration_seconds",
    "Time to answer an HTTP request, by method, route template and status.",
    ["method", "route", "status"],
    buckets=_FAST,
)
UPLOADS = Counter("sodav_uploads", "Upload batches stored, by agent.", ["agent"])
SEGMENTS_RECEIVED = Counter(
    "sodav_segments_received",
    "New fingerprint segments stored (duplicates not counted), by agent.",
    ["agent"],
)
AUTH_FAILURES = Counter(
    "sodav_auth_failures",
    "Requests refused for their token or role, by error code and route.",
    ["code", "route"],
)
MATCH_CYCLE_SECONDS = Histogram(
    "sodav_matcher_cycle_duration_seconds",
    "Time of one matching cycle that had segments: match, assemble plays, learn rates, commit.",
    buckets=_FAST,
)
MATCHING_DELAY = Histogram(
    "sodav_matching_delay_seconds",
    "Time from a segment's arrival at the collector to its match.",
    buckets=_SLOW,
)
SEGMENTS_MATCHED = Counter(
    "sodav_segments_matched", "Segments the worker processed, by outcome (matched, unmatched).", ["outcome"]
)
WORKER_FAILURES = Counter("sodav_worker_cycle_failures", "Matching cycles that failed and were rolled back.")
RETENTION_DROPPED = Counter(
    "sodav_retention_dropped_segments", "Segments removed by the retention policy (collector/retention.py)."
)
REPORT_JOBS = Counter(
    "sodav_report_jobs",
    "The worker's report jobs, by job (airtime rollup, report file) and outcome.",
    ["job", "outcome"],
)
NOTIFY_DELIVERIES = Counter(
    "sodav_notify_deliveries",
    "Webhook and e-mail delivery attempts, by channel and outcome (delivered, retry, failed).",
    ["channel", "outcome"],
)
NOTIFY_SECONDS = Histogram(
    "sodav_notify_delivery_duration_seconds",
    "Time of one delivery attempt, by channel.",
    ["channel"],
    buckets=_FAST,
)
RECOGNIZER_REQUESTS = Counter(
    "sodav_recognizer_requests",
    "Requests to the external recognizers (AcoustID, AudD), by service and outcome.",
    ["service", "outcome"],
)

REDIS_FAILURES = Counter(
    "sodav_redis_failures",
    "Redis operations that failed (the collector went on without Redis), by use.",
    ["use"],
)
REPORT_CACHE = Counter(
    "sodav_report_cache",
    "Report answers asked of the cache, by report and outcome (hit, miss).",
    ["report", "outcome"],
)


def upload_received(agent: str, segments: int) -> None:
    """An upload was stored: one batch, ``segments`` new segments."""
    UPLOADS.labels(agent).inc()
    SEGMENTS_RECEIVED.labels(agent).inc(segments)


def report_job(job: str, ok: bool) -> None:
    """The reports' ticker finished a job (``airtime rollup``, ``scheduled report generation``)."""
    REPORT_JOBS.labels(job, "ok" if ok else "failed").inc()
