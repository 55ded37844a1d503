"""The examples of the user guides, as the tests run them.

A page marks an example with an HTML comment on the line before its fenced block::

    <!-- example: webhook-verify -->
    ```python
    ...
    ```

:func:`example` returns the block's text, and checks the French twin of the page carries the
very same block (code is not translated), so what the tests run is what both guides show.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _block(path: Path, name: str) -> str:
    text = path.read_text(encoding="utf-8")
    found = re.search(rf"<!-- example: {re.escape(name)} -->\n```[a-z]*\n(.*?)\n```", text, re.DOTALL)
    assert found, (
        f"{path.relative_to(DOCS)} has no example {name!r} (<!-- example: {name} --> then a code block)"
    )
    return found.group(1) + "\n"


def example(page: str, name: str) -> str:
    """The example ``name`` of ``docs/<page>.md``, identical in ``docs/<page>.fr.md``."""
    english = _block(DOCS / f"{page}.md", name)
    french = _block(DOCS / f"{page}.fr.md", name)
    assert english == french, f"example {name!r} differs between {page}.md and {page}.fr.md"
    return english
