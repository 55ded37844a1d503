"""The agent's retry policies (tenacity): capped exponential backoff with equal jitter.

Two loops retry: each station's capture reconnects to its source, and the uploader sends a
batch again. Both wait ``base / 2 + uniform(0, base / 2)`` with ``base = min(maximum,
initial * 2**n)`` ("equal jitter": never less than half the step, so a fleet of agents does
not reconnect in lockstep after a collector or a transmitter comes back). The error class
decides whether to retry (:mod:`edge_agent.errors`); a ``Retry-After`` from the collector
lengthens the wait, up to the cap. Waits end early when the agent stops.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import ParamSpec, TypeVar

import tenacity
from tenacity import RetryCallState, wait_exponential, wait_random_exponential
from tenacity.wait import wait_base

__all__ = ["Policy", "RetryAfter", "backoff", "policy"]

P = ParamSpec("P")
T = TypeVar("T")


def backoff(initial: float, maximum: float) -> wait_base:
    """Equal jitter: half the capped exponential step, plus up to as much again at random."""
    half, cap = initial / 2, maximum / 2
    return wait_exponential(multiplier=half, max=cap) + wait_random_exponential(multiplier=half, max=cap)


class RetryAfter(wait_base):
    """``wait``, or longer when the error carries a ``retry_after`` (HTTP Retry-After), capped."""

    def __init__(self, wait: wait_base, maximum: float) -> None:
        self.wait = wait
        self.maximum = maximum

    def __call__(self, retry_state: RetryCallState) -> float:
        delay = float(self.wait(retry_state))
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        asked = getattr(exc, "retry_after", None)
        if asked is not None:
            delay = max(delay, min(float(asked), self.maximum))
        return delay


class Policy:
    """Call a function, retrying the errors it was made for; see :func:`policy`."""

    def __init__(self, stop: threading.Event, retrying: tenacity.Retrying) -> None:
        self.stop = stop
        self.retrying = retrying

    def __call__(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``fn(*args, **kwargs)``, retried; None without calling it once ``stop`` is set."""

        def attempt() -> T | None:
            return None if self.stop.is_set() else fn(*args, **kwargs)

        return self.retrying(attempt)


def policy(
    stop: threading.Event,
    retry_on: type[BaseException] | tuple[type[BaseException], ...],
    wait: wait_base,
    *,
    before_sleep: Callable[[RetryCallState], None] | None = None,
    after: Callable[[RetryCallState], None] | None = None,
) -> Policy:
    """Retry ``retry_on`` errors forever, waiting ``wait`` between attempts, until ``stop`` is set.

    Anything else is raised at once; when ``stop`` is set during a wait, no attempt follows
    (the call returns None), and an attempt that fails once stopped raises its error. Each
    call counts its attempts from one; ``after`` may set ``attempt_number`` back to 1.
    """

    def sleep(seconds: float) -> None:
        stop.wait(seconds)

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(retry_on),
        wait=wait,
        stop=lambda _state: stop.is_set(),
        sleep=sleep,
        before_sleep=before_sleep,
        after=after or (lambda _state: None),
        reraise=True,
    )
    return Policy(stop, retrying)
