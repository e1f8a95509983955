"""The tests a field supports (eq, ne, in, glob, regex, exists, gt, gte, lt, lte) as predicates.

Each test also says, when it can, which text values or literal prefixes a matching event must
have, so the engine can index rules instead of trying each one.
"""

from __future__ import annotations

import fnmatch
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from switchboard.rules.fields import MISSING
from switchboard.rules.regex_set import indexable

Predicate = Callable[[object], bool]

_COMPARE: Final = {"gt": operator.gt, "gte": operator.ge, "lt": operator.lt, "lte": operator.le}
_GLOB_SPECIAL: Final = frozenset("*?[")
_REGEX_SPECIAL: Final = frozenset(".^$*+?{}[]\\|()")


@dataclass(frozen=True, slots=True)
class Requirement:
    """A necessary condition on a text field: its value is in ``values`` (or, with ``prefix``,
    starts with one of them), or, with ``pattern``, the regex finds a match in it."""

    values: frozenset[str]
    prefix: bool = False
    pattern: str | None = None


def predicate(name: str, operand: Any) -> Predicate:
    """The predicate for one test; ``operand`` was validated by the schema."""
    if name == "eq":
        return equals(operand)
    if name == "ne":
        same = equals(operand)
        return lambda value: not same(value)
    if name == "in":
        return _member_of(operand)
    if name == "glob":
        return _glob(operand)
    if name == "regex":
        return _matches(re.compile(operand).search)
    if name == "exists":
        wanted = bool(operand)
        return lambda value: (value is not MISSING) is wanted
    compare = _COMPARE[name]
    limit = float(operand)
    return lambda value: (number := _number(value)) is not None and compare(number, limit)


def requirement(name: str, operand: Any) -> Requirement | None:
    """What a matching value must look like, when the test pins it down."""
    if name == "eq" and isinstance(operand, str):
        return Requirement(frozenset([operand]))
    if name == "in" and all(isinstance(item, str) for item in operand):
        return Requirement(frozenset(operand))
    if name == "glob":
        prefix = glob_prefix(operand)
        if prefix == operand:
            return Requirement(frozenset([operand]))
        return Requirement(frozenset([prefix]), prefix=True) if prefix else None
    if name == "regex":
        prefix = regex_prefix(operand)
        if prefix:
            return Requirement(frozenset([prefix]), prefix=True)
        return Requirement(frozenset(), pattern=operand) if indexable(operand) else None
    return None


def equals(operand: Any) -> Predicate:
    """JSON equality: text equals text, numbers equal numbers, booleans only booleans."""
    if isinstance(operand, str):
        return lambda value: value == operand
    if isinstance(operand, bool) or operand is None:
        return lambda value: value is operand
    return lambda value: type(value) in (int, float) and value == operand


def _member_of(operands: Sequence[Any]) -> Predicate:
    if all(isinstance(item, str) for item in operands):
        members = frozenset(operands)
        return lambda value: type(value) is str and value in members
    tests = [equals(item) for item in operands]
    return lambda value: any(test(value) for test in tests)


def _glob(pattern: str) -> Predicate:
    # The common shapes skip the regex engine: 'x', 'x*', '*x' and '*x*' with a literal x.
    prefix = glob_prefix(pattern)
    if prefix == pattern:
        return lambda value: value == pattern
    if pattern == prefix + "*":
        return lambda value: type(value) is str and value.startswith(prefix)
    inner = pattern.strip("*")
    if glob_prefix(inner) == inner and pattern.startswith("*"):
        if pattern == "*" + inner:
            return lambda value: type(value) is str and value.endswith(inner)
        if pattern.endswith("*"):
            return lambda value: type(value) is str and inner in value
    return _matches(re.compile(fnmatch.translate(pattern)).match)


def _matches(find: Callable[[str], object]) -> Predicate:
    return lambda value: type(value) is str and find(value) is not None


def _number(value: object) -> float | None:
    if type(value) is int or type(value) is float:
        return float(value)
    if type(value) is str:
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def glob_prefix(pattern: str) -> str:
    """The literal text a glob starts with (the whole pattern when it has no wildcard)."""
    for index, char in enumerate(pattern):
        if char in _GLOB_SPECIAL:
            return pattern[:index]
    return pattern


def regex_prefix(pattern: str) -> str:
    """The literal text every match of an ``^``-anchored regex starts with ("" if unsure)."""
    if not pattern.startswith("^") or "|" in pattern:
        return ""
    literal: list[str] = []
    index = 1
    while index < len(pattern):
        char, step = pattern[index], 1
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            if not escaped or escaped.isalnum():
                break
            char, step = escaped, 2
        elif char in _REGEX_SPECIAL:
            break
        following = pattern[index + step : index + step + 1]
        if following in ("*", "?", "{"):
            break
        literal.append(char)
        if following == "+":
            break
        index += step
    return "".join(literal)
