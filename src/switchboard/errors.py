"""The one exception hierarchy: every message says what happened, why, and the fix."""

from __future__ import annotations


class SwitchboardError(Exception):
    """Base of every error Switchboard raises on purpose."""


class ConfigError(SwitchboardError):
    """A configuration file or setting is invalid."""


class StackError(SwitchboardError):
    """The local LiveKit stack could not be installed, started or reached."""
