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


async def insert_many_unless_exist(
    connection: AsyncConnection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    unique: Sequence[str],
    returning: str | None = None,
) -> set[Any]:
    """Insert the rows whose ``unique`` columns are not taken yet (also not by an earlier row of
    the same call), in one statement; the ``returning`` column of each row inserted.

    Rows go in sorted by ``unique``: concurrent batches (replicas on PostgreSQL) then take
    their index locks in one order and cannot deadlock.
    """
    if not rows:
        return set()
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    ordered = sorted(rows, key=lambda row: tuple(row[column] for column in unique))
    statement = (
        dialect.insert(table).values(ordered).on_conflict_do_nothing(index_elements=list(unique))
    )
    if returning is None:
        await connection.execute(statement)
        return set()
    result = await connection.execute(statement.returning(table.c[returning]))
    return set(result.scalars())
