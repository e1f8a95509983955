"""The one exception hierarchy: every message says what happened, why, and the fix.

Each error carries the exit code a command ends with when it stops on it; ``switchboard.cli``
turns any of them into one ``error: ...`` line on stderr and that code (docs/cli.md has the
table). ``Problem`` is the one "problem at file:line:column" type: rules files, agents configs
and the doctor's unreadable inputs all report with it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import IntEnum
from typing import ClassVar


class ExitCode(IntEnum):
    """How a ``switchboard`` command ends; the meaning of each code is the same everywhere."""

    OK = 0
    FAILED = 1
    USAGE = 2
    CANNOT_RUN = 3


class SwitchboardError(Exception):
    """Base of every error Switchboard raises on purpose."""

    exit_code: ClassVar[ExitCode] = ExitCode.FAILED


class ConfigError(SwitchboardError):
    """A configuration file or setting is invalid."""


class StackError(SwitchboardError):
    """The local LiveKit stack could not be installed, started or reached."""


class InputError(SwitchboardError):
    """A file or value a command was given cannot be read (an event file, a time)."""


class UsageError(SwitchboardError):
    """The command line asks for something the command cannot do; the message says what can."""

    exit_code = ExitCode.USAGE


class MissingExtraError(UsageError):
    """A command needs packages of an extra that is not installed."""

    def __init__(self, command: str, extra: str, missing: str) -> None:
        super().__init__(
            f"'switchboard {command}' needs the {extra} extra ({missing} is not installed): "
            f"pip install 'livekit-switchboard[{extra}]'"
        )

    @classmethod
    def from_import(cls, command: str, extra: str, error: ImportError) -> MissingExtraError:
        """The error for ``command`` when an import of ``extra``'s packages failed; an import
        of our own modules that failed is a bug, so that ``ImportError`` is raised again."""
        if (error.name or "switchboard").partition(".")[0] == "switchboard":
            raise error
        return cls(command, extra, str(error.name))


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in a file at ``file:line:column`` (1-based; 0 when not known, then not shown).

    ``location`` names the key path when it helps (``qualifier.questions[0].id``).
    """

    file: str
    line: int = 0
    column: int = 0
    message: str = ""
    hint: str = ""
    location: str = ""

    @property
    def source(self) -> str:
        """Where it is: ``file:line:column``, ``file:line`` or ``file``."""
        if not self.line:
            return self.file
        return (
            f"{self.file}:{self.line}:{self.column}" if self.column else f"{self.file}:{self.line}"
        )

    def __str__(self) -> str:
        text = f"{self.source}: {self.location}: " if self.location else f"{self.source}: "
        text += self.message
        return f"{text} (hint: {self.hint})" if self.hint else text


class ProblemsError(SwitchboardError):
    """A file could not be loaded; ``issues`` lists every problem found, in file order."""

    subject: ClassVar[str] = "file"

    def __init__(self, issues: Iterable[Problem]) -> None:
        self.issues: list[Problem] = sorted(
            set(issues), key=lambda i: (i.file, i.line, i.column, i.location, i.message)
        )
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        lines = [f"{self.subject} has {count} {noun}:", *(f"  {issue}" for issue in self.issues)]
        super().__init__("\n".join(lines))

    @property
    def summary(self) -> str:
        """``FILE: N problems``: the line a command prints after the problems themselves."""
        count = len(self.issues)
        source = self.issues[0].file if self.issues else self.subject
        return f"{source}: {count} {'problem' if count == 1 else 'problems'}"
