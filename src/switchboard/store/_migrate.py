"""Apply the Alembic migrations at open, one replica at a time.

Alembic is imported only when the schema is behind: a store whose schema is current (every
open but the first) answers from one query, so a replica or an Azure Function starts without
Alembic's ~0.15 s of imports and ~10 MiB (bench/bench_footprint.py).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Final

from sqlalchemy import column, inspect, select, table, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from switchboard.store._schema import VERSION_TABLE
from switchboard.store.errors import MigrationError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR: Final = Path(__file__).with_name("migrations")
SCHEMA_HEAD: Final = "0003"
"""The newest revision under migrations/versions; tests/integration/store holds it to Alembic's."""
MIGRATION_LOCK_KEY: Final = 0x5357_4254_4D49_4752
"""The PostgreSQL advisory lock that serializes migrations of replicas sharing a database."""


# Alembic keeps the running migration's context in module globals, so two migrations
# interleaving in one process (stores opened concurrently) would run on each other's
# connections. One lock per event loop serializes the tasks, one per process the threads.
_LOOP_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
_THREAD_LOCK: Final = threading.Lock()


def _process_lock() -> asyncio.Lock:
    loop = asyncio.get_running_loop()
    lock = _LOOP_LOCKS.get(loop)
    if lock is None:
        lock = _LOOP_LOCKS[loop] = asyncio.Lock()
    return lock


def _config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest schema revision this code's Alembic scripts know (``SCHEMA_HEAD``)."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise MigrationError("the store ships no migrations; reinstall Switchboard")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision recorded in the database, None before the first migration."""
    from alembic.runtime.migration import MigrationContext

    context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
    return context.get_current_revision()


async def migrate(engine: AsyncEngine) -> str:
    """Bring the schema to the head revision and return it; a no-op when already there.

    Runs in one transaction. On PostgreSQL a transaction-scoped advisory lock makes concurrent
    replicas wait for each other (the second then finds the schema current); on SQLite the
    transaction's write lock does the same.
    """
    async with _process_lock(), engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            await connection.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        if await _recorded_revisions(connection) == [SCHEMA_HEAD]:
            return SCHEMA_HEAD
        return await connection.run_sync(_upgrade)


async def _recorded_revisions(connection: AsyncConnection) -> list[str]:
    """The revisions in Alembic's version table, read without Alembic; [] before the first."""
    if not await connection.run_sync(lambda sync: inspect(sync).has_table(VERSION_TABLE)):
        return []
    versions = table(VERSION_TABLE, column("version_num"))
    return list((await connection.execute(select(versions.c.version_num))).scalars())


def _upgrade(connection: Connection) -> str:
    # Only contended by another thread's event loop, which never needs this one to finish.
    with _THREAD_LOCK:
        return _upgrade_locked(connection)


def _upgrade_locked(connection: Connection) -> str:
    from alembic import command
    from alembic.script.revision import RevisionError
    from alembic.util import CommandError

    found = current_revision(connection)
    try:
        command.upgrade(_config(connection), "head")
    except (CommandError, RevisionError) as exc:
        raise MigrationError(
            f"cannot migrate the store schema from revision {found!r}: {exc}; if another "
            f"replica runs a newer Switchboard (this one knows up to {head_revision()!r}), "
            "upgrade this one too"
        ) from None
    revision = current_revision(connection)
    if revision is None:
        raise MigrationError("the store migrations ran but recorded no revision")
    return revision
