"""The model registry: every domain's tables on one ``Base.metadata`` (Alembic's env.py, tests).

A composition module: importing it loads every domain's models, which no domain needs.
"""

from collector.catalog.models import Recording
from collector.db.base import Base
from collector.fleet.models import Agent, Station, StationStatus, Token, User, agent_stations
from collector.ingest.excerpts import ExcerptRequest
from collector.ingest.models import Event, Heartbeat, Segment, SegmentFingerprint
from collector.matching.models import SegmentMatch
from collector.plays.models import Play, PlaySegment
from collector.recognizers.models import RecognizerRequests, RecognizerService
from collector.reports.models import (
    AirtimeDirtyMonth,
    AirtimeMonth,
    AirtimeRollup,
    GeneratedReport,
)

__all__ = [
    "Agent",
    "AirtimeDirtyMonth",
    "AirtimeMonth",
    "AirtimeRollup",
    "Base",
    "Event",
    "ExcerptRequest",
    "GeneratedReport",
    "Heartbeat",
    "Play",
    "PlaySegment",
    "RecognizerRequests",
    "RecognizerService",
    "Recording",
    "Segment",
    "SegmentFingerprint",
    "SegmentMatch",
    "Station",
    "StationStatus",
    "Token",
    "User",
    "agent_stations",
]
