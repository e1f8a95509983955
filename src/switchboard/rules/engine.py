"""Compiled rules and ``decide``: first match wins, else the default action.

Rules whose conditions require a text field to equal one of a few values (an event type, a
called number, a room name...), to start with a literal, or to match a regex are indexed on that
field, so an event only evaluates the rules it could match, in file order.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from switchboard.rules.admission import Admission, CompiledLimit, compile_limit
from switchboard.rules.conditions import Compiled, IndexKey, Test, compile_condition
from switchboard.rules.decision import (
    DEFAULT_RULE_ID,
    AgentDispatch,
    ConditionResult,
    Decision,
    RuleTrace,
)
from switchboard.rules.errors import TemplateRenderError
from switchboard.rules.event import RoomEvent
from switchboard.rules.models import Action, Rule, RulesFile
from switchboard.rules.regex_set import RegexSet
from switchboard.rules.templates import MissingFieldError, Template, compile_template

_FIELD_RANK: Final = {"event": 4, "participant.kind": 3}
_LATEST_TIMESTAMP: Final = 100_000_000_000  # year 5138: later createdAt values are bogus


@dataclass(frozen=True, slots=True)
class CompiledDispatch:
    """An agent and its compiled metadata template."""

    agent: str
    template: Template

    def render(self, event: RoomEvent) -> AgentDispatch:
        """The dispatch for ``event``; raises ``MissingFieldError``."""
        return AgentDispatch(self.agent, self.template.render(event))


@dataclass(frozen=True, slots=True)
class CompiledRule:
    """A rule ready to evaluate; ``model`` is the validated rule it came from."""

    id: str
    position: int
    condition: Compiled
    dispatches: tuple[CompiledDispatch, ...]
    model: Rule
    limit: CompiledLimit | None = None


def _compile_action(action: Action) -> tuple[CompiledDispatch, ...]:
    return tuple(
        CompiledDispatch(spec.agent, compile_template(spec.metadata)) for spec in action.dispatch
    )


class CompiledRules:
    """A loaded rules file, compiled once; ``decide`` is pure and never raises."""

    def __init__(self, model: RulesFile, *, source: str = "<rules>", digest: str = "") -> None:
        self.model = model
        self.source = source
        self.digest = digest
        self.rules: tuple[CompiledRule, ...] = tuple(
            CompiledRule(
                rule.id,
                position,
                compile_condition(rule.when, rule.id),
                _compile_action(rule.then),
                rule,
                _compile_limit(rule.then),
            )
            for position, rule in enumerate(model.rules)
        )
        self.default: tuple[CompiledDispatch, ...] = _compile_action(model.default)
        self.default_limit = _compile_limit(model.default)
        self._tests: tuple[Test, ...] = tuple(rule.condition.test for rule in self.rules)
        self._unindexed, self._indexes, self._regex_indexes = _build_index(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def may_dispatch_on(self, event_type: str) -> bool:
        """Whether an event of ``event_type`` can get a dispatch: some rule does not exclude
        that event type, or the default dispatches."""
        return bool(self.default) or any(
            _may_match_event_type(rule, event_type) for rule in self.rules
        )

    @property
    def rule_ids(self) -> list[str]:
        """The rule ids in evaluation order."""
        return [rule.id for rule in self.rules]

    def rule(self, rule_id: str) -> CompiledRule:
        """The rule with this id; raises ``KeyError``."""
        for rule in self.rules:
            if rule.id == rule_id:
                return rule
        raise KeyError(rule_id)

    def decide(self, event: RoomEvent | Mapping[str, Any], now: datetime | None = None) -> Decision:
        """Decide which agents to dispatch for ``event``.

        ``event`` is a ``RoomEvent`` or a decoded webhook body. ``now`` (for time windows)
        defaults to the event's ``createdAt``, so a retried webhook gets the same decision,
        else to the current time; a naive ``now`` is taken as UTC.
        """
        room_event = event if isinstance(event, RoomEvent) else RoomEvent.from_webhook_dict(event)
        when = resolve_now(room_event, now)
        position = self._first_match(room_event, when)
        if position < 0:
            rule_id, dispatches, limit = DEFAULT_RULE_ID, self.default, self.default_limit
        else:
            matched = self.rules[position]
            rule_id, dispatches, limit = matched.id, matched.dispatches, matched.limit
        rendered, errors = _render(rule_id, dispatches, room_event)
        admission: Admission | None = None
        if limit is not None and rendered:
            admission, problem = _render_limit(rule_id, limit, room_event)
            errors += problem
        return Decision(
            event=room_event,
            now=when,
            rule_id=rule_id,
            dispatches=rendered,
            errors=errors,
            tracer=lambda: self.trace(room_event, when, position),
            admission=admission,
        )

    def _first_match(self, event: RoomEvent, now: datetime) -> int:
        candidates: list[Sequence[int]] = [self._unindexed] if self._unindexed else []
        for index in self._indexes:
            value = index.get(event)
            if type(value) is not str:
                continue
            hit = index.exact.get(value)
            if hit:
                candidates.append(hit)
            for length in index.prefix_lengths:
                hit = index.prefixes.get(value[:length])
                if hit:
                    candidates.append(hit)
        for regexes in self._regex_indexes:
            value = regexes.get(event)
            if type(value) is str:
                found = regexes.rules.candidates(value)
                if found:
                    candidates.append(found)
        if not candidates:
            return -1
        ordered: Iterable[int] = candidates[0] if len(candidates) == 1 else heapq.merge(*candidates)
        tests = self._tests
        for position in ordered:
            if tests[position](event, now):
                return position
        return -1

    def trace(self, event: RoomEvent, now: datetime, matched: int) -> tuple[RuleTrace, ...]:
        """Evaluate every rule up to ``matched`` (all rules when -1) with tracing on."""
        last = matched if matched >= 0 else len(self.rules) - 1
        traces = []
        for rule in self.rules[: last + 1]:
            out: list[ConditionResult] = []
            passed = rule.condition.trace(event, now, out, 0)
            traces.append(RuleTrace(rule.id, passed, tuple(out)))
        return tuple(traces)


def resolve_now(event: RoomEvent, now: datetime | None) -> datetime:
    """The time a decision is made at: ``now``, else the event's ``createdAt``, else the clock."""
    if now is not None:
        return now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    if 0 < event.created_at < _LATEST_TIMESTAMP:
        return datetime.fromtimestamp(event.created_at, UTC)
    return datetime.now(UTC)


def _render(
    rule_id: str, dispatches: tuple[CompiledDispatch, ...], event: RoomEvent
) -> tuple[tuple[AgentDispatch, ...], tuple[str, ...]]:
    rendered: list[AgentDispatch] = []
    errors: list[str] = []
    for dispatch in dispatches:
        try:
            rendered.append(dispatch.render(event))
        except MissingFieldError as exc:
            errors.append(str(TemplateRenderError(rule_id, dispatch.agent, exc.field)))
    return tuple(rendered), tuple(errors)


def _compile_limit(action: Action) -> CompiledLimit | None:
    return compile_limit([spec.agent for spec in action.dispatch], action.limit, action.queue)


def _render_limit(
    rule_id: str, limit: CompiledLimit, event: RoomEvent
) -> tuple[Admission, tuple[str, ...]]:
    """The admission for ``event``; a ``per`` key the event lacks counts under the agents alone
    (never unlimited), with the error saying so."""
    try:
        return limit.render(event), ()
    except MissingFieldError as exc:
        fallback = CompiledLimit(limit.agents, limit.calls, None, limit.queue)
        error = (
            f"rule '{rule_id}': cannot render limit.per: the event has no {exc.field}; the call "
            f"is counted under the agents alone (hint: mark it optional as {{{exc.field}?}})"
        )
        return fallback.render(event), (error,)


def _may_match_event_type(rule: CompiledRule, event_type: str) -> bool:
    for conjunct in rule.condition.conjuncts:
        key = conjunct.index_key
        if key is None or key.field != "event" or key.requirement.prefix:
            continue
        if key.requirement.pattern is None and event_type not in key.requirement.values:
            return False
    return True


@dataclass(slots=True)
class _FieldIndex:
    """Rule positions by the exact value, or the literal prefix, one field must have."""

    get: Callable[[RoomEvent], object]
    exact: dict[str, list[int]] = field(default_factory=dict)
    prefixes: dict[str, list[int]] = field(default_factory=dict)
    prefix_lengths: tuple[int, ...] = ()


@dataclass(slots=True)
class _RegexIndex:
    """Rule positions by the regex one field must match."""

    get: Callable[[RoomEvent], object]
    rules: RegexSet = field(default_factory=RegexSet)


def _build_index(
    rules: Sequence[CompiledRule],
) -> tuple[list[int], list[_FieldIndex], list[_RegexIndex]]:
    unindexed: list[int] = []
    indexes: dict[str, _FieldIndex] = {}
    regex_indexes: dict[str, _RegexIndex] = {}
    for rule in rules:
        keys = [c.index_key for c in rule.condition.conjuncts if c.index_key is not None]
        if not keys:
            unindexed.append(rule.position)
            continue
        key = min(keys, key=_selectivity)
        if key.requirement.pattern is not None:
            regexes = regex_indexes.setdefault(key.field, _RegexIndex(key.get))
            regexes.rules.add(key.requirement.pattern, rule.position)
            continue
        index = indexes.setdefault(key.field, _FieldIndex(key.get))
        table = index.prefixes if key.requirement.prefix else index.exact
        for value in key.requirement.values:
            table.setdefault(value, []).append(rule.position)
    for index in indexes.values():
        index.prefix_lengths = tuple(sorted({len(prefix) for prefix in index.prefixes}))
    for regexes in regex_indexes.values():
        regexes.rules.compile()
    return unindexed, list(indexes.values()), list(regex_indexes.values())


def _selectivity(key: IndexKey) -> tuple[int, int]:
    """Prefer exact values, then long prefixes, then a regex; participant kind and event type
    come last."""
    needs = key.requirement
    if needs.pattern is not None:
        return _FIELD_RANK.get(key.field, 2), 0
    rank = _FIELD_RANK.get(key.field, 1 if needs.prefix else 0)
    longest = max(len(value) for value in needs.values)
    return rank, -longest if needs.prefix else len(needs.values)
