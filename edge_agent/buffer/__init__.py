"""The agent's durable buffer: the SQLite outbox and the excerpt store."""

from edge_agent import without

# sqlite-utils imports numpy and pandas at import time when they are installed, only to map
# their scalar types to column types. The agent hands it neither, and numpy alone would cost
# the agent 14 MB of RSS (bench/agent).
with without(["numpy", "pandas"]):
    import sqlite_utils  # noqa: F401
