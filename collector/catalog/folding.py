"""Text folded for search: accents and case ignored both ways ("lo" finds "Lô", "LÔ" finds "lo").

A recording keeps its title, artist and label folded in columns of their own (``*_search``,
migration 0007), and a search folds its words the same way, so one plain ``LIKE`` answers
identically on PostgreSQL and SQLite: no ``unaccent`` extension, no collation or locale of
the server changes what matches.
"""

from __future__ import annotations

import unicodedata

# Latin letters that Unicode does not decompose into a base letter and a mark
_PLAIN = str.maketrans({"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "ı": "i", "æ": "ae", "œ": "oe"})


def fold(text: str) -> str:
    """Lower case without accents: "Lô" → "lo", "ÉTOILES" → "etoiles", "Straße" → "strasse".

    Letters of their own stay themselves: the Wolof "Ŋ" folds to "ŋ", not to "n".
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_PLAIN)
