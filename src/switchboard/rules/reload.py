"""Hot reload: keep serving the current rules and swap in a new version when the file changes.

The swap is one attribute assignment, so a decision in flight uses either the old or the new
rules, never a mix, and no event waits for a reload. A file that fails to load is reported and
the previous rules stay in force.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from switchboard.rules.decision import Decision
from switchboard.rules.engine import CompiledRules
from switchboard.rules.errors import Issue, RulesError
from switchboard.rules.event import RoomEvent
from switchboard.rules.loader import load_rules_text

ReloadStatus = Literal["unchanged", "reloaded", "failed"]


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """The outcome of one check; ``error`` is set when ``status`` is ``failed``."""

    status: ReloadStatus
    rules: CompiledRules
    error: RulesError | None = None


_Stamp = tuple[int, int, int]


class RulesHolder:
    """Holds the compiled rules of one file and reloads them when the file changes.

    Construction loads the file and raises ``RulesError`` if it is invalid; later failures
    never raise: they are returned (and kept in ``last_error``) while the old rules serve on.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self.last_error: RulesError | None = None
        stamp = self._stamp()
        text = self._read()
        self._rules = load_rules_text(text, str(self.path))
        self._stamp_seen = stamp
        self._digest = _digest(text)

    @property
    def rules(self) -> CompiledRules:
        """The rules in force (no I/O)."""
        return self._rules

    def decide(self, event: RoomEvent | Mapping[str, Any], now: datetime | None = None) -> Decision:
        """``decide`` with the rules in force."""
        return self._rules.decide(event, now)

    def reload_if_changed(self, *, force: bool = False) -> ReloadResult:
        """Reload when the file's mtime, size or inode changed (or always with ``force``)."""
        with self._lock:
            try:
                stamp = self._stamp()
                if stamp == self._stamp_seen and not force:
                    return ReloadResult("unchanged", self._rules)
                text = self._read()
            except RulesError as exc:
                return self._failed(exc)
            digest = _digest(text)
            if digest == self._digest and not force:
                self._stamp_seen = stamp
                return ReloadResult("unchanged", self._rules)
            try:
                rules = load_rules_text(text, str(self.path))
            except RulesError as exc:
                self._stamp_seen = stamp
                return self._failed(exc)
            self._rules, self._stamp_seen, self._digest = rules, stamp, digest
            self.last_error = None
            return ReloadResult("reloaded", rules)

    async def watch(
        self, interval: float = 1.0, on_result: Callable[[ReloadResult], None] | None = None
    ) -> None:
        """Check the file every ``interval`` seconds until cancelled; report non-trivial results."""
        while True:
            await asyncio.sleep(interval)
            result = await asyncio.to_thread(self.reload_if_changed)
            if on_result is not None and result.status != "unchanged":
                on_result(result)

    def _failed(self, error: RulesError) -> ReloadResult:
        self.last_error = error
        return ReloadResult("failed", self._rules, error)

    def _stamp(self) -> _Stamp:
        try:
            info = os.stat(self.path)
        except OSError as exc:
            raise self._io_error(exc) from None
        return info.st_mtime_ns, info.st_size, info.st_ino

    def _read(self) -> str:
        try:
            return self.path.read_bytes().decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise self._io_error(exc) from None

    def _io_error(self, exc: Exception) -> RulesError:
        return RulesError(
            [
                Issue(
                    str(self.path),
                    1,
                    1,
                    f"cannot read the rules file: {exc}",
                    "the previous rules stay in force until the file is readable UTF-8 again",
                )
            ]
        )


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
