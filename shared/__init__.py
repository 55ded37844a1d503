"""What agent and collector share: wire schemas, the fingerprint codec, Chromaprint, config,
and the decoding of audio to PCM.

``__all__`` lists every public name of the submodules; a test keeps it complete.
Importing this package loads neither libchromaprint, nor PyAV (``shared.audio``'s names are
imported on first use), nor any server library.
"""

from typing import Any

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
from shared.codec import (
    MAGIC,
    BlobHeader,
    CodecError,
    DecodedSegment,
    FingerprintSegment,
    decode,
    encode,
    rate_ppm_of,
    read_header,
)
from shared.config import ConfigError, load_settings, read_secret, redact
from shared.pcm import SILENT_DBFS, Pcm, as_pcm, dbfs, mix_stereo, sum_squares
from shared.progress import Progress, eta, track
from shared.schemas import (
    MAX_BATCH_BYTES,
    MAX_EXCERPT_BYTES,
    MAX_EXCERPT_SECONDS,
    MAX_INT64,
    MAX_SEGMENTS_PER_BATCH,
    MAX_VALUES_PER_BATCH,
    SCHEMA_VERSION,
    SLUG_PATTERN,
    VALUES_MARGIN,
    AgentDirectiveV1,
    ErrorCode,
    ErrorV1,
    EventKind,
    EventV1,
    ExcerptAckV1,
    ExcerptGone,
    ExcerptRequestV1,
    ExcerptV1,
    HeartbeatAckV1,
    HeartbeatV1,
    OutageReason,
    SegmentV1,
    SourceState,
    SourceStatusV1,
    StationSlug,
    UploadAckV1,
    UploadV1,
    check_blob,
    max_values,
    no_nul,
    utc,
    wire_context,
)
from shared.segmenter import Segment, Segmenter

__version__ = "0.1.0"

# shared.audio imports PyAV (~16 MB of RSS): loaded when one of its names is first used
_AUDIO = ("BLOCK_SECONDS", "AudioError", "PcmConverter", "Resampler", "file_pcm", "frames_to_pcm")


def __getattr__(name: str) -> Any:
    if name in _AUDIO:
        from shared import audio

        return getattr(audio, name)
    raise AttributeError(f"module 'shared' has no attribute {name!r}")


__all__ = [
    "ALGORITHM",
    "BLOCK_SECONDS",
    "CHROMAPRINT_RATE",
    "MAGIC",
    "MAX_BATCH_BYTES",
    "MAX_EXCERPT_BYTES",
    "MAX_EXCERPT_SECONDS",
    "MAX_INT64",
    "MAX_SEGMENTS_PER_BATCH",
    "MAX_VALUES_PER_BATCH",
    "SCHEMA_VERSION",
    "SILENT_DBFS",
    "SLUG_PATTERN",
    "VALUES_MARGIN",
    "AgentDirectiveV1",
    "AudioError",
    "BlobHeader",
    "ChromaprintError",
    "ChromaprintUnavailable",
    "CodecError",
    "ConfigError",
    "DecodedSegment",
    "ErrorCode",
    "ErrorV1",
    "EventKind",
    "EventV1",
    "ExcerptAckV1",
    "ExcerptGone",
    "ExcerptRequestV1",
    "ExcerptV1",
    "FingerprintSegment",
    "HeartbeatAckV1",
    "HeartbeatV1",
    "OutageReason",
    "Pcm",
    "PcmConverter",
    "Progress",
    "Resampler",
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
    "check_blob",
    "compressed",
    "dbfs",
    "decode",
    "encode",
    "eta",
    "file_pcm",
    "fingerprint_pcm",
    "fingerprint_values",
    "frames_to_pcm",
    "item_duration",
    "library_path",
    "library_version",
    "load_settings",
    "max_values",
    "mix_stereo",
    "no_nul",
    "ppm_to_rate",
    "rate_ppm_of",
    "rate_to_ppm",
    "read_header",
    "read_secret",
    "redact",
    "sum_squares",
    "track",
    "utc",
    "wire_context",
]
