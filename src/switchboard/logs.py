"""One logging style for every package: the event as the message, its facts as ``extra=``.

``logger.info("dispatch", extra={"job": 7, "room": "call-1", "outcome": "dispatched"})``.
livekit-agents' own formatter prints the agents' records with their extras (JSON in
production); ``configure_logging`` gives ``switchboard serve`` the same records as one line each:
``INFO switchboard.service: dispatch job=7 room=call-1 outcome=dispatched``.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any, Final

_RECORD_FIELDS: Final = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime"}
FORMAT: Final = "%(levelname)s %(name)s: %(message)s"


def facts_of(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` a record was logged with, in the order given."""
    return {key: value for key, value in vars(record).items() if key not in _RECORD_FIELDS}


def _text(value: Any) -> str:
    if isinstance(value, str) and value and not any(c.isspace() or c in "\"'=" for c in value):
        return value
    if isinstance(value, bool | int | float | list | tuple | dict) or value is None:
        return json.dumps(value, separators=(",", ":"), default=str, ensure_ascii=False)
    return json.dumps(value if isinstance(value, str) else str(value), ensure_ascii=False)


class KeyValueFormatter(logging.Formatter):
    """``LEVEL logger: message key=value ...``: a record's extras after its message."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        facts = facts_of(record)
        if not facts:
            return line
        return line + " " + " ".join(f"{key}={_text(value)}" for key, value in facts.items())


def configure_logging(level: int | str = logging.INFO) -> None:
    """Print ``switchboard.*`` records to stderr, one line each (once per process)."""
    logger = logging.getLogger("switchboard")
    if any(isinstance(h.formatter, KeyValueFormatter) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter(FORMAT))
    logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False
