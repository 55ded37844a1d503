"""The model registry: every domain's tables on one ``Base.metadata`` (Alembic's env.py, tests).

A composition module: importing it loads every domain's models, which no domain needs.
"""

from collector.catalog.models import Recording
from collector.db.base import Base
from collector.fleet.models import Agent, AuditEntry, Station, StationStatus, Token, User, agent_stations
from collector.ingest.excerpts import ExcerptRequest
from collector.ingest.models import Event, Heartbeat, Segment, SegmentFingerprint
from collector.matching.models import SegmentMatch
from collector.matching.rematch import RematchMark
from collector.notify.models import Delivery, ReportSubscription, StationNotice, Webhook
from collector.plays.models import Play, PlayFlag, PlaySegment
from collector.recognizers.clusters import UnknownCluster, UnknownScan, UnknownSpan
from collector.recognizers.models import RecognizerRequests, RecognizerService
from collector.reports.models import (
    AirtimeChange,
    AirtimeMonth,
    AirtimeRollup,
    GeneratedReport,
)

__all__ = [
    "Agent",
    "AirtimeChange",
    "AirtimeMonth",
    "AirtimeRollup",
    "AuditEntry",
    "Base",
    "Delivery",
    "Event",
    "ExcerptRequest",
    "GeneratedReport",
    "Heartbeat",
    "Play",
    "PlayFlag",
    "PlaySegment",
    "RecognizerRequests",
    "RecognizerService",
    "Recording",
    "RematchMark",
    "ReportSubscription",
    "Segment",
    "SegmentFingerprint",
    "SegmentMatch",
    "Station",
    "StationNotice",
    "StationStatus",
    "Token",
    "UnknownCluster",
    "UnknownScan",
    "UnknownSpan",
    "User",
    "Webhook",
    "agent_stations",
]
