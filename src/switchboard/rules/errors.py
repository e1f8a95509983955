"""Errors of the rules engine: every problem found in a rules file, and render failures."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from switchboard.errors import SwitchboardError


@dataclass(frozen=True, slots=True)
class Issue:
    """One problem in a rules file, located at ``file:line:column`` (both 1-based)."""

    file: str
    line: int
    column: int
    message: str
    hint: str = ""

    def __str__(self) -> str:
        text = f"{self.file}:{self.line}:{self.column}: {self.message}"
        return f"{text} (hint: {self.hint})" if self.hint else text


class RulesError(SwitchboardError):
    """A rules file could not be loaded; ``issues`` lists every problem found, in file order."""

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: list[Issue] = sorted(
            set(issues), key=lambda i: (i.file, i.line, i.column, i.message)
        )
        count = len(self.issues)
        noun = "problem" if count == 1 else "problems"
        lines = [f"rules file has {count} {noun}:", *(f"  {issue}" for issue in self.issues)]
        super().__init__("\n".join(lines))


class EventError(SwitchboardError):
    """A webhook payload is not a JSON object and cannot be read as a room event."""


class TemplateRenderError(SwitchboardError):
    """A dispatch metadata template referenced a field the event does not have."""

    def __init__(self, rule_id: str, agent: str, field: str) -> None:
        self.rule_id = rule_id
        self.agent = agent
        self.field = field
        super().__init__(
            f"rule '{rule_id}': cannot render metadata for agent '{agent}': the event has no "
            f"{field} (hint: make sure the event carries it, or mark it optional as {{{field}?}})"
        )
