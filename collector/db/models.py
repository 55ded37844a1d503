"""Import every domain's models so ``Base.metadata`` is complete (Alembic, tests)."""

from collector.catalog.models import Recording
from collector.db.base import Base
from collector.fleet.models import Agent, Station, Token, User, agent_stations
from collector.ingest.models import (
    Event,
    Heartbeat,
    Segment,
    SegmentFingerprint,
    SegmentMatch,
    StationStatus,
)
from collector.plays.models import Play, PlaySegment
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
    "GeneratedReport",
    "Heartbeat",
    "Play",
    "PlaySegment",
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
