"""Errors of the durable store: bad URLs, unreachable databases, schema mismatches."""

from __future__ import annotations

from switchboard.errors import ConfigError, SwitchboardError


class StoreError(SwitchboardError):
    """The durable store could not do what was asked."""


class StoreURLError(StoreError, ConfigError):
    """The database URL is malformed or names a database Switchboard does not support."""


class StoreUnavailableError(StoreError):
    """The database could not be opened or reached."""


class MigrationError(StoreError):
    """The schema could not be brought to the version this code needs."""


class UnknownEventError(StoreError):
    """A decision referred to an event the store has not recorded."""
