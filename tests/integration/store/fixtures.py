"""Pytest fixtures for store tests, importable by other test packages (the service tests).

Use them from a conftest with
``from tests.integration.store.fixtures import postgres_server, postgres_url  # noqa: F401``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from switchboard.store import Store
from tests.integration.store.pg_server import PostgresServer

BACKENDS = ("sqlite", "postgresql")


class ManualClock:
    """A clock that moves only when told, for leases and backoff without sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        """Move forward and return the new time."""
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throw-away PostgreSQL cluster for the whole session, stopped even when tests fail."""
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """A fresh, empty database on the session cluster."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    url = postgres_server.create_database(name)
    yield url
    postgres_server.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def sqlite_url(directory: Path) -> str:
    """A SQLite file URL in ``directory``."""
    return f"sqlite+aiosqlite:///{directory / 'switchboard.db'}"


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once per backend: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock starting at 2026-01-01 12:00 UTC."""
    return ManualClock()


@pytest.fixture
async def store(store_url: str, clock: ManualClock) -> AsyncIterator[Store]:
    """An open store on ``store_url`` driven by the manual ``clock``."""
    opened = await Store.open(store_url, clock=clock)
    try:
        yield opened
    finally:
        await opened.close()
