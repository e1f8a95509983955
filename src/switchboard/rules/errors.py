"""Errors of the rules engine: every problem found in a rules file, and render failures."""

from __future__ import annotations

from switchboard.errors import Problem, ProblemsError, SwitchboardError

Issue = Problem
"""One problem in a rules file, located at ``file:line:column`` (both 1-based)."""


class RulesError(ProblemsError):
    """A rules file could not be loaded; ``issues`` lists every problem found, in file order."""

    subject = "rules file"


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
