"""Switchboard: a control plane for multi-agent voice AI on LiveKit."""

from switchboard.errors import ConfigError, StackError, SwitchboardError

__all__ = ["ConfigError", "StackError", "SwitchboardError", "__version__"]
__version__ = "0.2.0"
