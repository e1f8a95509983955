"""Engines per backend (SQLite write locking, PostgreSQL pooling) and connection-failure text."""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from switchboard.store._url import describe, redact, sqlite_path
from switchboard.store.errors import StoreUnavailableError

CONNECT_TIMEOUT_SECONDS: Final = 10
SQLITE_BUSY_TIMEOUT_SECONDS: Final = 30


def create_engine(url: URL, pool_size: int) -> AsyncEngine:
    """An engine for a URL already checked by ``parse_store_url``; ``pool_size``: the
    PostgreSQL connections kept open (beyond them, SQLAlchemy's 10 overflow ones come and go)."""
    if url.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_size=pool_size,
        connect_args={"timeout": CONNECT_TIMEOUT_SECONDS},
    )


def _sqlite_engine(url: URL) -> AsyncEngine:
    path = sqlite_path(url)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreUnavailableError(
                f"cannot create the directory of the SQLite store {describe(url)!r}: "
                f"{exc.strerror}; choose a writable path"
            ) from None
    engine = create_async_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS})

    @event.listens_for(engine.sync_engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the sqlite3 module, decides when transactions begin (see _begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        # Take the write lock up front: a deferred transaction that reads and then writes fails
        # with "database is locked" instead of waiting when another writer got there first.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def failure_reason(exc: BaseException, url: URL) -> str:
    """One line saying why the database failed, with a hint, never containing the password."""
    cause: BaseException = exc
    if isinstance(exc, DBAPIError) and isinstance(exc.orig, BaseException):
        cause = exc.orig
    lines = str(cause).strip().splitlines()
    text = lines[0] if lines else type(cause).__name__
    if url.password:
        text = text.replace(str(url.password), "***")
    text = redact(text)
    return f"{text} ({_hint(text.lower(), url)})"


def _hint(text: str, url: URL) -> str:
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    if "password authentication failed" in text or ("role" in text and "does not exist" in text):
        return "check the user name and password in the URL"
    if "database" in text and "does not exist" in text:
        return f"create it first, e.g. createdb -h {url.host or 'localhost'} {url.database}"
    if "unable to open database file" in text:
        return "check that the directory exists and is writable"
    if "database is locked" in text:
        return "another process holds the SQLite write lock too long; use PostgreSQL for replicas"
    if url.get_backend_name() == "postgresql":
        return f"check that PostgreSQL is running and accepts connections at {where}"
    return "check the path and its permissions"
