"""Database plumbing: declarative base and column types, engines, sessions and transactions, migrations."""
