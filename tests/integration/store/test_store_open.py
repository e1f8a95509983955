"""Opening a store: migrations (idempotent, concurrent, checked against the models) and errors."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from switchboard.errors import ConfigError, SwitchboardError
from switchboard.store import (
    MigrationError,
    Store,
    StoreError,
    StoreUnavailableError,
    StoreURLError,
)
from switchboard.store._migrate import SCHEMA_HEAD, head_revision, migrate
from switchboard.store._schema import VERSION_TABLE, metadata
from switchboard.store._url import parse_store_url
from tests.integration.store.pg_server import PostgresServer

TABLES = {
    *("events", "decisions", "dispatch_jobs", "dispatch_attempts", "room_facts"),
    *("caller_queue", "recoveries"),
}


def _url(store_url: str) -> str:
    return parse_store_url(store_url).render_as_string(hide_password=False)


async def _versions(store_url: str) -> list[str]:
    engine = create_async_engine(_url(store_url))
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
            return [row[0] for row in rows]
    finally:
        await engine.dispose()


async def test_open_creates_schema_at_head(store_url: str) -> None:
    store = await Store.open(store_url)
    await store.close()
    assert store.revision == head_revision()
    assert await _versions(store_url) == [head_revision()]


async def test_migrations_twice_are_a_noop(store_url: str) -> None:
    first = await Store.open(store_url)
    assert await first.record_event("EV_keep", "room_started", "r", "RM_1", "{}")
    await first.close()

    engine = create_async_engine(_url(store_url))
    try:
        assert await migrate(engine) == head_revision()
        assert await migrate(engine) == head_revision()
    finally:
        await engine.dispose()

    second = await Store.open(store_url)
    try:
        assert await second.get_event("EV_keep") is not None
        assert not await second.record_event("EV_keep", "room_started", "r", "RM_1", "{}")
    finally:
        await second.close()
    assert await _versions(store_url) == [head_revision()]


def test_schema_head_names_the_newest_migration() -> None:
    assert head_revision() == SCHEMA_HEAD


_OPEN_AND_LIST_ALEMBIC = """
import asyncio, sys
from switchboard.store import Store

async def main() -> None:
    async with await Store.open(sys.argv[1]) as store:
        print(store.revision, "alembic" in sys.modules)

asyncio.run(main())
"""


async def test_a_current_schema_opens_without_importing_alembic(store_url: str) -> None:
    def open_in_a_new_process() -> str:
        return subprocess.run(
            [sys.executable, "-c", _OPEN_AND_LIST_ALEMBIC, _url(store_url)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()

    assert await asyncio.to_thread(open_in_a_new_process) == f"{SCHEMA_HEAD} True"
    assert await asyncio.to_thread(open_in_a_new_process) == f"{SCHEMA_HEAD} False"


async def test_replicas_starting_together_migrate_once(store_url: str) -> None:
    stores = await asyncio.gather(*(Store.open(store_url) for _ in range(4)))
    try:
        assert {store.revision for store in stores} == {head_revision()}
        results = await asyncio.gather(
            *(store.record_event("EV_1", "room_started", "r", "RM_1", "{}") for store in stores)
        )
        assert sorted(results) == [False, False, False, True]
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    assert await _versions(store_url) == [head_revision()]


async def test_migrated_schema_matches_the_models(store_url: str) -> None:
    await (await Store.open(store_url)).close()

    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return list(compare_metadata(context, metadata))

    def tables(connection: Connection) -> set[str]:
        return set(inspect(connection).get_table_names())

    engine = create_async_engine(_url(store_url))
    try:
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
            assert await connection.run_sync(tables) == TABLES | {VERSION_TABLE}
    finally:
        await engine.dispose()


async def test_schema_newer_than_code_is_refused(store_url: str) -> None:
    await (await Store.open(store_url)).close()
    engine = create_async_engine(_url(store_url))
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"UPDATE {VERSION_TABLE} SET version_num = '9999'"))
    finally:
        await engine.dispose()

    with pytest.raises(MigrationError) as caught:
        await Store.open(store_url)
    assert "'9999'" in str(caught.value)
    assert "upgrade" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("", "empty"),
        ("not a url", "cannot be parsed"),
        ("mysql+aiomysql://user:hunter2secret@db/switchboard", "does not support"),
        ("postgresql+psycopg2://user:hunter2secret@db/switchboard", "does not support"),
        ("sqlite+aiosqlite://", "in-memory"),
        ("sqlite+aiosqlite:///:memory:", "in-memory"),
    ],
)
async def test_bad_url_is_a_clear_config_error(url: str, expected: str) -> None:
    with pytest.raises(StoreURLError) as caught:
        await Store.open(url)
    message = str(caught.value)
    assert isinstance(caught.value, SwitchboardError)
    assert isinstance(caught.value, ConfigError)
    assert expected in message
    assert "hunter2secret" not in message
    assert "postgresql+asyncpg://" in message or "sqlite+aiosqlite:///" in message


def test_unparseable_url_does_not_echo_the_password() -> None:
    with pytest.raises(StoreURLError) as caught:
        parse_store_url("postgresql://user:hunter2secret@host:notaport/db")
    assert "hunter2secret" not in str(caught.value)
    assert "user:***@host" in str(caught.value)


async def test_unreachable_server_names_host_and_hides_password(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with socket_closed_port() as port:
        url = f"postgresql+asyncpg://switchboard:hunter2secret@127.0.0.1:{port}/switchboard"
        with pytest.raises(StoreUnavailableError) as caught:
            await Store.open(url)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message
    assert "PostgreSQL is running" in message
    assert "hunter2secret" not in message
    assert "hunter2secret" not in caplog.text


async def test_wrong_password_says_so_without_printing_it(
    postgres_server: PostgresServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StoreUnavailableError) as caught:
        await Store.open(postgres_server.url(password="wrong-hunter2secret"))
    message = str(caught.value)
    assert "password authentication failed" in message
    assert "check the user name and password" in message
    assert "wrong-hunter2secret" not in message
    assert postgres_server.password not in message
    assert "wrong-hunter2secret" not in caplog.text


async def test_missing_database_suggests_creating_it(postgres_server: PostgresServer) -> None:
    with pytest.raises(StoreUnavailableError) as caught:
        await Store.open(postgres_server.url("no_such_database"))
    assert "does not exist" in str(caught.value)
    assert "createdb" in str(caught.value)
    assert postgres_server.password not in str(caught.value)


async def test_sqlite_directory_that_cannot_exist(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(StoreUnavailableError) as caught:
        await Store.open(f"sqlite:///{blocker}/store.db")
    assert "writable path" in str(caught.value)


async def test_default_scheme_aliases_pick_the_async_drivers(tmp_path: Path) -> None:
    store = await Store.open(f"sqlite:///{tmp_path}/store.db")
    try:
        assert store.backend == "sqlite"
        assert store.url.startswith("sqlite+aiosqlite:///")
    finally:
        await store.close()
    assert parse_store_url("postgres://u:p@h/db").drivername == "postgresql+asyncpg"


async def test_closed_store_refuses_work(store_url: str) -> None:
    store = await Store.open(store_url)
    await store.close()
    with pytest.raises(StoreError, match="closed"):
        await store.pending_count()


class socket_closed_port:
    """A loopback port that was just free and has no listener."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port: int = probe.getsockname()[1]
        return port

    def __exit__(self, *_: object) -> None:
        return None


async def test_stores_on_different_databases_open_together(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    urls = [f"sqlite+aiosqlite:///{tmp_path}/{n}.db" for n in range(3)]
    urls += [
        postgres_server.create_database(f"together_{n}_{tmp_path.name[-8:]}") for n in range(3)
    ]
    stores = await asyncio.gather(*(Store.open(url) for url in urls))
    try:
        assert {store.revision for store in stores} == {head_revision()}
    finally:
        await asyncio.gather(*(store.close() for store in stores))


async def test_postgres_keeps_its_pool_of_connections_open(postgres_url: str) -> None:
    """A claim's completions run at once; the pool keeps their connections for the next claim
    instead of closing all but SQLAlchemy's default 5 (reconnecting halved the drain rate)."""
    at_once = 12
    async with await Store.open(postgres_url, pool_size=at_once) as store:
        await asyncio.gather(*(store.get_event(f"EV_{n}") for n in range(at_once)))
        engine = create_async_engine(_url(postgres_url))
        try:
            async with engine.connect() as probe:
                kept = await probe.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
        finally:
            await engine.dispose()
    assert kept == at_once
