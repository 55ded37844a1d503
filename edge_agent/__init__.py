"""SODAV Monitor edge agent."""

import sys
from collections.abc import Iterable


def import_without(module: str, unused: Iterable[str]) -> None:
    """Import ``module`` as if the modules ``unused`` were not installed (unless already loaded).

    Some of the agent's libraries import optional modules whenever they are installed, for
    features the agent never uses; on a small box every one of them is resident memory for
    months. A development venv or a machine that also runs the collector has them installed;
    the agent's package does not, and the agent must measure the same on both.
    """
    if module in sys.modules:
        return
    blocked = [name for name in unused if name not in sys.modules]
    for name in blocked:
        sys.modules[name] = None  # type: ignore[assignment]  # importing it raises ImportError
    try:
        __import__(module)
    finally:
        for name in blocked:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


# httpx imports its command-line client when click, pygments and rich are installed (pytest
# brings pygments): 1.5 MB of RSS for a daemon that never prints a coloured response.
import_without("httpx", ("httpx._main",))
