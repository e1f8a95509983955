"""Database URLs: validation, driver selection and password-free rendering."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from switchboard import defaults
from switchboard.store.errors import StoreURLError

DEFAULT_URL: Final = defaults.STORE_URL

_EXAMPLES: Final = (
    "sqlite+aiosqlite:///path/to/switchboard.db or "
    "postgresql+asyncpg://user:password@host:5432/database"
)
_DRIVERS: Final = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}
_PASSWORD: Final = re.compile(r"(//[^/@:]*:)[^/]*@")


def redact(raw: str) -> str:
    """``raw`` with any ``user:password@`` password replaced by ``***``."""
    return _PASSWORD.sub(r"\1***@", raw)


def describe(url: URL) -> str:
    """The URL as text, safe to log: the password is ``***``."""
    return url.render_as_string(hide_password=True)


def parse_store_url(raw: str) -> URL:
    """Validate a store URL and pin its async driver (``postgres://`` becomes asyncpg)."""
    text = raw.strip()
    if not text:
        raise StoreURLError(f"the database URL is empty; use {_EXAMPLES}")
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        raise StoreURLError(
            f"the database URL {redact(text)!r} cannot be parsed; use {_EXAMPLES} "
            "(percent-encode special characters in the password)"
        ) from None
    driver = _DRIVERS.get(url.drivername)
    if driver is None:
        raise StoreURLError(
            f"the database URL {describe(url)!r} uses {url.drivername!r}, which the store does "
            f"not support; use {_EXAMPLES}"
        )
    url = url.set(drivername=driver)
    if url.get_backend_name() == "sqlite" and sqlite_path(url) is None:
        raise StoreURLError(
            f"the database URL {describe(url)!r} is an in-memory SQLite database, which loses "
            "every event on restart; name a file, e.g. sqlite+aiosqlite:///switchboard.db"
        )
    return url


def sqlite_path(url: URL) -> Path | None:
    """The file of a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file::memory:"):
        return None
    if url.query.get("mode") == "memory":
        return None
    return Path(database)
