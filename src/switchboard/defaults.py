"""The defaults the settings, the store and the service share, declared once.

Standard library only: the settings (read by base-install commands) and the store (service extra)
both import it, and neither imports the other for them.
"""

from __future__ import annotations

from typing import Final

STORE_URL: Final = "sqlite+aiosqlite:///.switchboard/switchboard.db"
"""A SQLite file under the working directory: fine for one replica and for development."""

DISPATCH_MAX_ATTEMPTS: Final = 6
"""Attempts at one dispatch job before it is dead-lettered."""
BACKOFF_BASE_SECONDS: Final = 0.5
"""The delay before the second attempt; each later one doubles it."""
BACKOFF_MAX_SECONDS: Final = 30.0
"""The longest delay between two attempts."""

DISPATCH_CONCURRENCY: Final = 32
"""Jobs one replica's dispatcher claims at once and completes concurrently."""
STORE_SPARE_CONNECTIONS: Final = 8
"""PostgreSQL connections kept beside the dispatcher's, for the webhook intake, sweeps and reads."""
STORE_POOL_SIZE: Final = DISPATCH_CONCURRENCY + STORE_SPARE_CONNECTIONS
"""PostgreSQL connections a store keeps open: a whole claim completes without opening one
(a pool of 5 drained a backlog at 264 jobs/s, this one at 565 in the same run; bench/README.md).
``Settings.store_pool_size`` derives the same from the configured dispatch concurrency."""

ROOM_PROOF_SECONDS: Final = 5.0
"""How recent a job's webhook must be for the dispatcher to take it as proof that the room is
open and skip ``ListRooms`` on the first attempt (service/dispatcher.py says why that is safe)."""
