"""A local stand-in for AudD and AcoustID that speaks their documented protocols and
identifies audio against its own reference recordings.

    python -m tests.support.recognizers_standin --port 8090 --catalog DIR

Tests use :class:`Standin` in-process; the benchmark and an operator's trial run use the
command above. ``server`` holds the HTTP side and the faults, ``audd`` and ``acoustid`` each
service's protocol (and where each shape comes from), ``references`` the music it knows.
"""

from tests.support.recognizers_standin.references import References, write_catalog
from tests.support.recognizers_standin.server import Fault, Recorded, Standin

__all__ = ["Fault", "Recorded", "References", "Standin", "write_catalog"]
