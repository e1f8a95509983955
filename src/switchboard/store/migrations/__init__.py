"""Alembic migrations of the store schema, applied by ``Store.open`` (see docs/store.md)."""
