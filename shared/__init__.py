"""What agent and collector share: wire schemas, the fingerprint codec, Chromaprint, config.

``__all__`` lists every public name of the submodules; a test keeps it complete.
Importing this package loads neither libchromaprint nor any server library.
"""

from shared.chroma import (
    ALGORITHM,
    CHROMAPRINT_RATE,
    ChromaprintError,
    ChromaprintUnavailable,
    StreamFingerprinter,
    compressed,
    fingerprint_pcm,
    fingerprint_values,
    item_duration,
    library_path,
    library_version,
    ppm_to_rate,
    rate_to_ppm,
)
from shared.codec import MAGIC, CodecError, DecodedSegment, FingerprintSegment, decode, encode, rate_ppm_of
from shared.config import ConfigError, load_settings, read_secret
from shared.pcm import SILENT_DBFS, Pcm, as_pcm, dbfs, sum_squares
from shared.schemas import (
    MAX_BATCH_BYTES,
    MAX_SEGMENTS_PER_BATCH,
    SCHEMA_VERSION,
    AgentDirectiveV1,
    ErrorCode,
    ErrorV1,
    EventKind,
    EventV1,
    HeartbeatAckV1,
    HeartbeatV1,
    OutageReason,
    SegmentV1,
    SourceState,
    SourceStatusV1,
    StationSlug,
    UploadAckV1,
    UploadV1,
    utc,
)
from shared.segmenter import Segment, Segmenter

__version__ = "0.1.0"

__all__ = [
    "ALGORITHM",
    "CHROMAPRINT_RATE",
    "MAGIC",
    "MAX_BATCH_BYTES",
    "MAX_SEGMENTS_PER_BATCH",
    "SCHEMA_VERSION",
    "SILENT_DBFS",
    "AgentDirectiveV1",
    "ChromaprintError",
    "ChromaprintUnavailable",
    "CodecError",
    "ConfigError",
    "DecodedSegment",
    "ErrorCode",
    "ErrorV1",
    "EventKind",
    "EventV1",
    "FingerprintSegment",
    "HeartbeatAckV1",
    "HeartbeatV1",
    "OutageReason",
    "Pcm",
    "Segment",
    "SegmentV1",
    "Segmenter",
    "SourceState",
    "SourceStatusV1",
    "StationSlug",
    "StreamFingerprinter",
    "UploadAckV1",
    "UploadV1",
    "__version__",
    "as_pcm",
    "compressed",
    "dbfs",
    "decode",
    "encode",
    "fingerprint_pcm",
    "fingerprint_values",
    "item_duration",
    "library_path",
    "library_version",
    "load_settings",
    "ppm_to_rate",
    "rate_ppm_of",
    "rate_to_ppm",
    "read_secret",
    "sum_squares",
    "utc",
]
