"""Compile validated conditions into closures: one fast ``test`` and one ``trace`` for explaining.

Regexes, globs, timezones and salts are prepared here once per load, never per event.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from switchboard.rules.condition_models import Condition, FieldTest, RolloutSpec, TimeWindowSpec
from switchboard.rules.decision import ConditionResult
from switchboard.rules.event import RoomEvent
from switchboard.rules.fields import MISSING, FieldPath, parse_field_path
from switchboard.rules.operators import Predicate, Requirement, predicate, requirement
from switchboard.rules.rollout import BUCKETS, bucket_of, threshold_of

Test = Callable[[RoomEvent, datetime], bool]
Trace = Callable[[RoomEvent, datetime, list[ConditionResult], int], bool]
_SEEN_LIMIT: Final = 120


@dataclass(frozen=True, slots=True)
class IndexKey:
    """A requirement on one field that every event matching the condition meets."""

    field: str
    get: Callable[[RoomEvent], object]
    requirement: Requirement


@dataclass(frozen=True, slots=True)
class Compiled:
    """A compiled condition; ``conjuncts`` are the conditions that must all hold."""

    test: Test
    trace: Trace
    description: str
    conjuncts: tuple[Compiled, ...] = ()
    index_key: IndexKey | None = None


def compile_condition(condition: Condition, salt: str) -> Compiled:
    """Compile a rule's ``when``; ``salt`` is the default percentage salt (the rule id)."""
    return _conjunction(_parts(condition, salt), header=None)


def _parts(condition: Condition, salt: str) -> list[Compiled]:
    tests = sorted(condition.field_tests.items(), key=lambda item: item[1].field != "event")
    parts = [leaf for _, field_test in tests for leaf in _field_leaves(field_test)]
    if condition.time is not None:
        parts.append(_time(condition.time))
    if condition.percentage is not None:
        parts.append(_rollout(condition.percentage, salt))
    if condition.all_ is not None:
        children = [compile_condition(child, salt) for child in condition.all_]
        parts.append(_conjunction(children, header="all of"))
    if condition.any_ is not None:
        parts.append(_disjunction([compile_condition(child, salt) for child in condition.any_]))
    if condition.not_ is not None:
        parts.append(_negation(compile_condition(condition.not_, salt)))
    return parts


def show(value: object) -> str:
    """A value as an explanation shows it: JSON, shortened, or ``<missing>``."""
    if value is MISSING:
        return "<missing>"
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= _SEEN_LIMIT else text[: _SEEN_LIMIT - 1] + "…"


def _field_leaves(field_test: FieldTest) -> list[Compiled]:
    path = parse_field_path(field_test.field)
    leaves = []
    for name in field_test.operators:
        operand = field_test.value_of(name)
        description = f"{path.text} {name} {json.dumps(operand, ensure_ascii=False)}"
        needs = requirement(name, operand)
        key = IndexKey(path.text, path.get, needs) if needs is not None else None
        leaves.append(_leaf(path, name, operand, description, key))
    return leaves


def _leaf(
    path: FieldPath, name: str, operand: object, description: str, key: IndexKey | None
) -> Compiled:
    get = path.get
    check: Predicate = predicate(name, operand)
    test: Test
    if name == "eq" and isinstance(operand, str):
        test = lambda event, now: get(event) == operand  # noqa: E731 - one call fewer
    else:
        test = lambda event, now: check(get(event))  # noqa: E731

    def trace(event: RoomEvent, now: datetime, out: list[ConditionResult], depth: int) -> bool:
        value = get(event)
        passed = check(value)
        out.append(ConditionResult(description, passed, show(value), depth))
        return passed

    return Compiled(test, trace, description, index_key=key)


def _time(spec: TimeWindowSpec) -> Compiled:
    window = spec.build()
    days = spec.days if isinstance(spec.days, str) else ",".join(spec.days or ["every day"])
    description = f"time {days} {spec.from_}-{spec.to} {spec.timezone}"
    contains = window.contains

    def test(event: RoomEvent, now: datetime) -> bool:
        return contains(now)

    def trace(event: RoomEvent, now: datetime, out: list[ConditionResult], depth: int) -> bool:
        passed = contains(now)
        out.append(ConditionResult(description, passed, window.local_description(now), depth))
        return passed

    return Compiled(test, trace, description)


def _rollout(spec: RolloutSpec, default_salt: str) -> Compiled:
    salt = spec.salt if spec.salt is not None else default_salt
    get = parse_field_path(spec.key).get
    threshold = threshold_of(spec.percent)
    description = f"percentage {spec.percent}% of {spec.key} (salt {salt!r})"

    def bucket(event: RoomEvent) -> tuple[object, int]:
        value = get(event)
        return value, (BUCKETS if value is MISSING else bucket_of(salt, value))

    def test(event: RoomEvent, now: datetime) -> bool:
        return bucket(event)[1] < threshold

    def trace(event: RoomEvent, now: datetime, out: list[ConditionResult], depth: int) -> bool:
        value, slot = bucket(event)
        passed = slot < threshold
        seen = show(value) if value is MISSING else f"{show(value)} in bucket {slot / 100:.2f}%"
        out.append(ConditionResult(description, passed, seen, depth))
        return passed

    return Compiled(test, trace, description)


def _always(event: RoomEvent, now: datetime) -> bool:
    return True


def _conjunction(children: list[Compiled], header: str | None) -> Compiled:
    conjuncts = tuple(leaf for child in children for leaf in child.conjuncts or (child,))
    if len(children) == 1 and header is None:
        only = children[0]
        return Compiled(only.test, only.trace, only.description, conjuncts, only.index_key)
    test = _all_of(tuple(child.test for child in children))
    trace = _group_trace(children, header, all)
    description = header or " and ".join(child.description for child in children) or "always"
    return Compiled(test, trace, description, conjuncts)


def _all_of(tests: tuple[Test, ...]) -> Test:
    # Unrolled for the common sizes: a generator per call costs more than the tests themselves.
    if not tests:
        return _always
    if len(tests) == 1:
        return tests[0]
    if len(tests) == 2:
        a, b = tests
        return lambda event, now: a(event, now) and b(event, now)
    if len(tests) == 3:
        a, b, c = tests
        return lambda event, now: a(event, now) and b(event, now) and c(event, now)
    if len(tests) == 4:
        a, b, c, d = tests
        return lambda event, now: (
            a(event, now) and b(event, now) and c(event, now) and d(event, now)
        )

    def test(event: RoomEvent, now: datetime) -> bool:
        for check in tests:  # noqa: SIM110 - a loop is cheaper than all() over a generator
            if not check(event, now):
                return False
        return True

    return test


def _disjunction(children: list[Compiled]) -> Compiled:
    tests = tuple(child.test for child in children)

    def test(event: RoomEvent, now: datetime) -> bool:
        for check in tests:  # noqa: SIM110 - a loop is cheaper than any() over a generator
            if check(event, now):
                return True
        return False

    return Compiled(test, _group_trace(children, "any of", any), "any of")


def _negation(child: Compiled) -> Compiled:
    inner = child.test

    def test(event: RoomEvent, now: datetime) -> bool:
        return not inner(event, now)

    group = _group_trace([child], "not", all)

    def trace(event: RoomEvent, now: datetime, out: list[ConditionResult], depth: int) -> bool:
        start = len(out)
        passed = not group(event, now, out, depth)
        out[start] = ConditionResult("not", passed, out[start].seen, depth)
        return passed

    return Compiled(test, trace, "not")


def _group_trace(
    children: list[Compiled], header: str | None, combine: Callable[[list[bool]], bool]
) -> Trace:
    def trace(event: RoomEvent, now: datetime, out: list[ConditionResult], depth: int) -> bool:
        if header is None:
            return combine([child.trace(event, now, out, depth) for child in children])
        start = len(out)
        out.append(ConditionResult(header, False, "", depth))
        passed = combine([child.trace(event, now, out, depth + 1) for child in children])
        out[start] = ConditionResult(header, passed, "the conditions below", depth)
        return passed

    return trace
