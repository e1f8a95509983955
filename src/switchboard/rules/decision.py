"""The result of ``decide``: the matched rule, the agents to dispatch and why."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Final

from switchboard.rules.event import RoomEvent

if TYPE_CHECKING:
    from switchboard.rules.admission import Admission, AdmissionResult

DEFAULT_RULE_ID: Final = "default"


class DecisionKind(StrEnum):
    """What a decision does with the event's room."""

    DISPATCH = "dispatch"
    """Dispatch the agents now (under a limit: a slot was free)."""
    NOBODY = "nobody"
    """Dispatch no agent."""
    QUEUED = "queued"
    """Over the limit: the caller waits in the queue with the hold agent."""
    OVERFLOW = "overflow"
    """Over the limit and the queue is full (or the wait too long): the overflow action."""


@dataclass(frozen=True, slots=True)
class AgentDispatch:
    """One agent to dispatch, with its rendered metadata (``""`` when the rule has none)."""

    agent: str
    metadata: str = ""

    def to_json(self) -> dict[str, str]:
        """``{"agent": ..., "metadata": ...}``."""
        return {"agent": self.agent, "metadata": self.metadata}


@dataclass(frozen=True, slots=True)
class ConditionResult:
    """One evaluated condition: what it tests, whether it passed and the value it saw."""

    description: str
    passed: bool
    seen: str
    depth: int = 0


@dataclass(frozen=True, slots=True)
class RuleTrace:
    """How one rule fared against the event."""

    rule_id: str
    matched: bool
    conditions: tuple[ConditionResult, ...]


class Decision:
    """What to do with one event; ``explain()`` and ``trace`` say why.

    The trace is computed on first use by re-evaluating the (pure) rules with tracing on,
    so deciding stays fast and explaining stays exact.
    """

    __slots__ = (
        "_trace",
        "_tracer",
        "admission",
        "admitted",
        "dispatches",
        "errors",
        "event",
        "now",
        "rule_id",
    )

    def __init__(
        self,
        *,
        event: RoomEvent,
        now: datetime,
        rule_id: str,
        dispatches: tuple[AgentDispatch, ...],
        errors: tuple[str, ...],
        tracer: Callable[[], tuple[RuleTrace, ...]],
        admission: Admission | None = None,
        admitted: AdmissionResult | None = None,
    ) -> None:
        self.event = event
        self.now = now
        self.rule_id = rule_id
        self.dispatches = dispatches
        self.errors = errors
        self.admission = admission
        """The limit the dispatches are under, None when unlimited."""
        self.admitted = admitted
        """Under a limit, what admission made of this caller (None until counted)."""
        self._tracer = tracer
        self._trace: tuple[RuleTrace, ...] | None = None

    def with_admission(self, serving: int, waiting: int) -> Decision:
        """This decision with its limit applied to ``serving`` and ``waiting`` callers (itself
        when it is not limited)."""
        if self.admission is None:
            return self
        return self.admitted_as(self.admission.admit(serving, waiting))

    def admitted_as(self, result: AdmissionResult) -> Decision:
        """This decision with what admission made of the caller (the store's answer)."""
        return Decision(
            event=self.event,
            now=self.now,
            rule_id=self.rule_id,
            dispatches=self.dispatches,
            errors=self.errors,
            tracer=self._tracer,
            admission=self.admission,
            admitted=result,
        )

    @property
    def kind(self) -> DecisionKind:
        """Dispatch, nobody, or (under a limit, once admitted) queued or overflow."""
        if not self.dispatches:
            return DecisionKind.NOBODY
        return DecisionKind.DISPATCH if self.admitted is None else self.admitted.kind

    @property
    def is_default(self) -> bool:
        """True when no rule matched and the default action applies."""
        return self.rule_id == DEFAULT_RULE_ID

    @property
    def dispatches_nobody(self) -> bool:
        """True when no agent is to be dispatched."""
        return not self.dispatches

    @property
    def agent_names(self) -> list[str]:
        """The names of the agents to dispatch, in order."""
        return [dispatch.agent for dispatch in self.dispatches]

    @property
    def trace(self) -> tuple[RuleTrace, ...]:
        """Every rule evaluated, in order, up to and including the one that matched."""
        if self._trace is None:
            self._trace = self._tracer()
        return self._trace

    def explain(self) -> str:
        """A readable account of the decision, one condition per line."""
        lines = [f"event: {self.event.summary()} at {self.now.isoformat()}"]
        for rule in self.trace:
            lines.append(f"rule {rule.rule_id}: {'MATCHED' if rule.matched else 'no match'}")
            for condition in rule.conditions:
                mark = "✓" if condition.passed else "✗"
                indent = "  " * (condition.depth + 1)
                lines.append(f"{indent}{mark} {condition.description}  (saw {condition.seen})")
        if self.is_default:
            lines.append("no rule matched: the default action applies")
        lines.append(f"decision: {self._outcome()}")
        if self.admission is not None:
            lines.append(f"admission: {self.admission.describe()}")
            if self.admitted is not None:
                lines.append(f"admission: {self._admitted()}")
        lines.extend(f"error: {error}" for error in self.errors)
        return "\n".join(lines)

    def _outcome(self) -> str:
        source = "default" if self.is_default else f"rule {self.rule_id}"
        if self.errors:
            failed = len(self.errors)
            source = f"{source} ({failed} dispatch{'es' if failed > 1 else ''} failed to render)"
        if not self.dispatches:
            return f"{source} → dispatch nobody"
        agents = ", ".join(
            f"{d.agent} (metadata {d.metadata})" if d.metadata else d.agent for d in self.dispatches
        )
        if self.kind is DecisionKind.QUEUED:
            return f"{source} → queued for {agents}"
        if self.kind is DecisionKind.OVERFLOW:
            return f"{source} → overflow (the queue for {agents} is full)"
        return f"{source} → dispatch {agents}"

    def _admitted(self) -> str:
        assert self.admission is not None and self.admitted is not None
        result, queue = self.admitted, self.admission.queue
        counts = f"{result.serving} served, {result.waiting} waiting"
        if result.kind is DecisionKind.QUEUED:
            return (
                f"{counts} → queued at position {result.position} (hold agent {queue.hold_agent})"
            )
        if result.kind is DecisionKind.OVERFLOW:
            overflow = queue.overflow
            action = f"dispatch {overflow.agent}" if overflow.agent else "say the message, hang up"
            return f"{counts} → overflow: {action}"
        return f"{counts} → a slot is free: dispatch now"

    def to_json(self, *, include_trace: bool = True) -> dict[str, Any]:
        """A JSON-able dict: event, time, rule, dispatches, errors and (optionally) the trace."""
        result: dict[str, Any] = {
            "event": {
                "type": self.event.event,
                "id": self.event.id,
                "room": self.event.room.name if self.event.room else None,
                "participant": self.event.participant.identity if self.event.participant else None,
            },
            "now": self.now.isoformat(),
            "rule": self.rule_id,
            "dispatch": [dispatch.to_json() for dispatch in self.dispatches],
            "errors": list(self.errors),
        }
        if self.admission is not None:
            result["kind"] = str(self.kind)
            result["admission"] = self.admission.to_json()
            if self.admitted is not None:
                result["admission"]["admitted"] = self.admitted.to_json()
        if include_trace:
            result["trace"] = [
                {
                    "rule": rule.rule_id,
                    "matched": rule.matched,
                    "conditions": [
                        {
                            "condition": c.description,
                            "passed": c.passed,
                            "seen": c.seen,
                            "depth": c.depth,
                        }
                        for c in rule.conditions
                    ],
                }
                for rule in self.trace
            ]
        return result

    def __repr__(self) -> str:
        agents = json.dumps(self.agent_names)
        return f"Decision(rule_id={self.rule_id!r}, agents={agents}, errors={len(self.errors)})"
