"""Alembic environment: migrate the connection ``Store.open`` lends in ``config.attributes``.

Only the programmatic path is supported: ``switchboard.store._migrate`` takes the migration lock,
opens the transaction and passes its connection here, so every replica migrates the same way.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from switchboard.store._schema import VERSION_TABLE, metadata

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "the store migrations run from Store.open(url), which supplies the connection; "
        "the alembic command line is not configured for this project"
    )
context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
