"""SQL both backends share but spell differently."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection


async def insert_unless_exists(
    connection: AsyncConnection, table: Table, values: Mapping[str, Any], unique: Sequence[str]
) -> Any | None:
    """Insert a row unless one with the same ``unique`` columns exists; return its key or None.

    ``ON CONFLICT DO NOTHING`` makes this atomic: of concurrent inserters (also in other
    processes), exactly one gets the key back, whatever the interleaving.
    """
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    key = next(iter(table.primary_key.columns))
    statement = (
        dialect.insert(table)
        .values(dict(values))
        .on_conflict_do_nothing(index_elements=list(unique))
        .returning(key)
    )
    result = await connection.execute(statement)
    return result.scalar_one_or_none()
