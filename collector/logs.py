"""The collector's logging: one level for the collector, uvicorn and Alembic; text or JSON lines.

:func:`configure` installs one handler on the root logger. uvicorn is started without its own
logging configuration (``log_config=None``) and Alembic's ``env.py`` installs none, so their
records reach the same handler, at the same level.

The JSON format writes one object per line, for journald and log shippers::

    {"ts": "2026-11-26T07:03:32.626Z", "level": "INFO", "logger": "collector.ingest",
     "message": "upload agent=dakar-01 batch=72d2… segments=13 …", "agent": "dakar-01",
     "batch": "72d2…"}

``station``, ``agent`` and ``batch`` are fields of their own: given as ``extra={...}`` to the
logging call, or else read from the ``name=value`` words the collector's messages carry.
uvicorn's access lines get ``client``, ``method``, ``path`` and ``status``.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

__all__ = ["FIELDS", "JsonFormatter", "configure"]

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
FIELDS = ("station", "agent", "batch")
_WORDS = re.compile(r"\b(station|agent|batch)=([^\s,;]+)")
# loggers that would otherwise keep a level of their own
_THIRD_PARTY = ("uvicorn", "uvicorn.error", "uvicorn.access", "alembic")
# seven lines at every start saying which Alembic plugins loaded: only at DEBUG
_CHATTY = ("alembic.runtime.plugins",)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        words = dict(_WORDS.findall(message))
        for name in FIELDS:
            value = getattr(record, name, None) or words.get(name)
            if value is not None:
                out[name] = str(value)
        if record.name == "uvicorn.access" and isinstance(record.args, tuple) and len(record.args) == 5:
            client, method, path, _version, status = record.args
            out.update(client=str(client), method=str(method), path=str(path), status=int(str(status)))
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class _Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is when a record comes (never a stream closed since)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def configure(level: str = "INFO", fmt: str = "text") -> None:
    """Log at ``level`` (DEBUG … CRITICAL) in ``fmt`` (``text`` or ``json``) to stderr.

    Calling it again replaces the handler it installed, and only that one."""
    handler = _Stderr()
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Stderr)]:
        root.removeHandler(old)
    root.addHandler(handler)
    numeric = logging.getLevelName(level.upper())
    root.setLevel(numeric)
    for name in _THIRD_PARTY:
        logger = logging.getLogger(name)
        logger.setLevel(numeric)
        logger.handlers.clear()
        logger.propagate = True
    for name in _CHATTY:
        logging.getLogger(name).setLevel(
            max(numeric, logging.WARNING) if numeric > logging.DEBUG else numeric
        )
