"""The condition tree of a rules file (``when:``) as pydantic models.

A condition is a mapping: field paths with their tests, ``all``/``any``/``not``, ``time`` and
``percentage``. Validators check everything a single value can tell (the field exists, the regex
compiles, the timezone is known), so one validation pass reports every problem in a file.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from switchboard.rules.event import EVENT_TYPES, PARTICIPANT_KINDS
from switchboard.rules.fields import FieldPathError, parse_field_path
from switchboard.rules.timewindows import (
    TimeWindow,
    TimeWindowError,
    build_time_window,
    parse_clock,
    parse_days,
    parse_timezone,
)

Scalar = StrictStr | StrictInt | StrictFloat | StrictBool | None
Number = StrictInt | StrictFloat

COMBINATORS: Final = ("all", "any", "not")
CONDITION_KEYS: Final = (*COMBINATORS, "time", "percentage")
OPERATORS: Final = ("eq", "ne", "in", "glob", "regex", "exists", "gt", "gte", "lt", "lte")
_OPS_HINT: Final = "tests are " + ", ".join(OPERATORS) + ", e.g. room.name: {glob: 'support-*'}"


def problem(message: str, hint: str, *, at: str = "value") -> PydanticCustomError:
    """A validation error carrying a hint; ``at="key"`` points the position at the key."""
    return PydanticCustomError(
        "switchboard", "{message}", {"message": message, "hint": hint, "at": at}
    )


def describe(value: Any) -> str:
    """A value as an error message names it: "a mapping", "int 5"..."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"


class StrictModel(BaseModel):
    """Base of the schema models: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldTest(StrictModel):
    """Tests on one field; several tests in one mapping must all pass."""

    field: str = Field(alias="__field__")
    eq: Scalar = None
    ne: Scalar = None
    in_: list[Scalar] | None = Field(default=None, alias="in")
    glob: StrictStr | None = None
    regex: StrictStr | None = None
    exists: StrictBool | None = None
    gt: Number | None = None
    gte: Number | None = None
    lt: Number | None = None
    lte: Number | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_field(cls, data: Any) -> Any:
        if isinstance(data, Mapping) and isinstance(data.get("__field__"), str):
            try:
                parse_field_path(data["__field__"])
            except FieldPathError as exc:
                raise problem(exc.message, exc.hint, at="key") from None
        return data

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:
                raise problem(
                    f"bad regex {value!r}: {exc}",
                    "regexes use Python syntax; escape a literal '.' or '+' with a backslash",
                ) from None
        return value

    @property
    def operators(self) -> list[str]:
        """The tests given, in schema order (``in`` spelled as in the file)."""
        names = [name for name in type(self).model_fields if name in self.model_fields_set]
        return ["in" if name == "in_" else name for name in names if name != "field"]

    def value_of(self, operator: str) -> Any:
        """The operand of one test."""
        return getattr(self, "in_" if operator == "in" else operator)

    @model_validator(mode="after")
    def _fits_field(self) -> Self:
        path = parse_field_path(self.field)
        operators = self.operators
        if not operators:
            raise problem(f"no test for {path.text}", _OPS_HINT)
        if self.in_ is not None and not self.in_:
            raise problem(f"'in: []' on {path.text} never matches", "list at least one value")
        if path.kind == "json":
            return self
        for operator in operators:
            if path.kind in ("kind", "event") and operator in ("gt", "gte", "lt", "lte"):
                raise problem(f"{path.text} is a name, not a number", "use eq or in")
            values = (self.in_ or []) if operator == "in" else [self.value_of(operator)]
            if operator in ("eq", "ne", "in"):
                for value in values:
                    _check_text_operand(path.text, path.kind, value)
        return self


def _check_text_operand(field: str, kind: str, value: object) -> None:
    if not isinstance(value, str):
        if value is None:
            raise problem(
                f"{field} is text and never null", "use exists: false for a missing field"
            )
        if isinstance(value, bool):
            raise problem(f"{field} is text, but {value!r} is a boolean", 'quote it: "true"')
        raise problem(
            f"{field} is text, but {value!r} is a number",
            'quote the value, e.g. "+19497710000"; unquoted, YAML reads digits as a number '
            "and drops a leading +",
        )
    if kind == "kind" and value not in PARTICIPANT_KINDS:
        raise problem(
            f"unknown participant kind {value!r}", "use one of " + ", ".join(PARTICIPANT_KINDS)
        )
    if kind == "event" and value not in EVENT_TYPES:
        raise problem(
            f"unknown event type {value!r}",
            "Switchboard dispatches on room_started and participant_joined (there is no "
            "room_created); all types: " + ", ".join(sorted(EVENT_TYPES)),
        )


class TimeWindowSpec(StrictModel):
    """``time:`` business hours, e.g. Mon-Fri 09:00-17:00 Europe/Berlin."""

    timezone: StrictStr
    days: StrictStr | list[StrictStr] | None = None
    from_: StrictStr = Field(alias="from")
    to: StrictStr

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        _time_checked(parse_timezone, value)
        return value

    @field_validator("days")
    @classmethod
    def _days(cls, value: str | list[str] | None) -> str | list[str] | None:
        _time_checked(parse_days, value)
        return value

    @field_validator("from_")
    @classmethod
    def _start(cls, value: str) -> str:
        _time_checked(lambda text: parse_clock(text, allow_24=False), value)
        return value

    @field_validator("to")
    @classmethod
    def _end(cls, value: str) -> str:
        _time_checked(lambda text: parse_clock(text, allow_24=True), value)
        return value

    @model_validator(mode="after")
    def _not_empty(self) -> Self:
        _time_checked(lambda _: self.build(), None)
        return self

    def build(self) -> TimeWindow:
        """The evaluable window."""
        return build_time_window(self.timezone, self.days, self.from_, self.to)


def _time_checked(check: Any, value: Any) -> None:
    try:
        check(value)
    except TimeWindowError as exc:
        raise problem(exc.message, exc.hint) from None


class RolloutSpec(StrictModel):
    """``percentage:`` a stable share of keys (``10`` alone means 10 % of room names)."""

    percent: Number
    key: StrictStr = "room.name"
    salt: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, int | float) and not isinstance(data, bool):
            return {"percent": data}
        return data

    @field_validator("percent")
    @classmethod
    def _in_range(cls, value: float) -> float:
        if not 0 <= value <= 100:
            raise problem(
                f"percentage must be between 0 and 100, got {value}",
                "write the share of keys to select, e.g. percent: 10 for 10 %",
            )
        return value

    @field_validator("key")
    @classmethod
    def _key_field(cls, value: str) -> str:
        try:
            parse_field_path(value)
        except FieldPathError as exc:
            raise problem(exc.message, exc.hint) from None
        return value


class Condition(StrictModel):
    """A mapping of tests that must all hold: fields, ``all``/``any``/``not``, time, rollout."""

    model_config = ConfigDict(extra="allow", frozen=True)

    all_: list[Condition] | None = Field(default=None, alias="all")
    any_: list[Condition] | None = Field(default=None, alias="any")
    not_: Condition | None = Field(default=None, alias="not")
    time: TimeWindowSpec | None = None
    percentage: RolloutSpec | None = None
    __pydantic_extra__: dict[str, FieldTest] = Field(init=False)

    @model_validator(mode="before")
    @classmethod
    def _field_tests(cls, data: Any) -> Any:
        if not isinstance(data, Mapping):
            raise problem(
                f"a condition must be a mapping, got {describe(data)}",
                "write tests as 'field: value', e.g. participant.kind: SIP",
            )
        normalized: dict[Any, Any] = {}
        for key, value in data.items():
            if key in CONDITION_KEYS or not isinstance(key, str):
                normalized[key] = value
            elif isinstance(value, Mapping):
                normalized[key] = {**value, "__field__": key}
            elif isinstance(value, list):
                normalized[key] = {"in": value, "__field__": key}
            else:
                normalized[key] = {"eq": value, "__field__": key}
        return normalized

    @field_validator("any_")
    @classmethod
    def _any_not_empty(cls, value: list[Condition] | None) -> list[Condition] | None:
        if value is not None and not value:
            raise problem("'any: []' never matches", "list at least one condition or remove it")
        return value

    @property
    def field_tests(self) -> dict[str, FieldTest]:
        """The field tests of this mapping, keyed by field path as written."""
        return dict(self.__pydantic_extra__ or {})
