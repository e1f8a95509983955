"""Store tests run once on a SQLite file and once on a real PostgreSQL server."""

from tests.integration.store.fixtures import (  # noqa: F401
    clock,
    postgres_server,
    postgres_url,
    store,
    store_url,
)
