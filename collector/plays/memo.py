"""What the sequential test worked out about a station's audio, kept from one cycle to the next.

A station's open plays are reassembled with every new minute of its audio, over the twenty
minutes and more before them (:mod:`collector.plays.service`), and the sequential test
(:mod:`collector.plays.sequential`) asks the same questions of the same unnamed segments at each
of those cycles: which recordings and alignments a seed's 30 s propose (a multi-probe catalog
search and whole-reference scans, the costliest part of a rebuild), and how far each neighbour
is from a proposed recording at its alignment. The answers depend only on the segments'
fingerprints and the catalog, so they are kept here, one table per catalog index
(a reloaded catalog starts afresh), keyed by the segments' ids and starts, the least recently
used dropped past :data:`SIZE` entries.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")

# a station's rebuild window holds some 60 seeds (a few hundred bytes each) and some 200
# neighbours' BERs (~150 bytes each): ~50 MB for 1,000 stations
SIZE = 300_000


class Memo:
    """A bounded least-recently-used table of computed answers."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._table: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._table:
                self._table.move_to_end(key)
                self.hits += 1
                value: T = self._table[key]
                return value
        value = compute()
        with self._lock:
            self.misses += 1
            self._table[key] = value
            if len(self._table) > self.size:
                self._table.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._table)


_MEMOS: weakref.WeakKeyDictionary[object, Memo] = weakref.WeakKeyDictionary()
_MEMOS_LOCK = threading.Lock()


def memo_for(owner: object) -> Memo:
    """The table that lives as long as ``owner`` (a catalog index)."""
    with _MEMOS_LOCK:
        memo = _MEMOS.get(owner)
        if memo is None:
            memo = _MEMOS[owner] = Memo()
        return memo
