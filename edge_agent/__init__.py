"""SODAV Monitor edge agent."""

import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager


@contextmanager
def without(unused: Iterable[str]) -> Iterator[None]:
    """Import, inside this block, as if the modules ``unused`` were not installed.

    Some of the agent's libraries import optional modules whenever they are installed, for
    features the agent never uses; on a small box every one of them is resident memory for
    months. A development venv or a machine that also runs the collector has them installed;
    the agent's package does not, and the agent must measure the same on both. A module
    already imported stays as it is.
    """
    blocked = [name for name in unused if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        yield
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


# httpx imports its command-line client when click, pygments and rich are installed (pytest
# brings pygments): 1.5 MB of RSS for a daemon that never prints a coloured response.
with without(["httpx._main"]):
    import httpx  # noqa: F401
