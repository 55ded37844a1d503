"""The agent's durable buffer: the SQLite outbox and the excerpt store."""
