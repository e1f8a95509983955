"""The rules file schema (``version: 1``) as pydantic models.

Validators do every check that needs only the value at hand (regexes compile, timezones exist,
template fields are known), so one validation pass reports all problems of a file at once.
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
from switchboard.rules.templates import TemplateSyntaxError, compile_template
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

SCHEMA_VERSION: Final = 1
COMBINATORS: Final = ("all", "any", "not")
CONDITION_KEYS: Final = (*COMBINATORS, "time", "percentage")
OPERATORS: Final = ("eq", "ne", "in", "glob", "regex", "exists", "gt", "gte", "lt", "lte")
_RULE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_OPS_HINT: Final = "tests are " + ", ".join(OPERATORS) + ", e.g. room.name: {glob: 'support-*'}"


def problem(message: str, hint: str, *, at: str = "value") -> PydanticCustomError:
    """A validation error carrying a hint; ``at="key"`` points the position at the key."""
    return PydanticCustomError(
        "switchboard", "{message}", {"message": message, "hint": hint, "at": at}
    )


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldTest(_Model):
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


class TimeWindowSpec(_Model):
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


class RolloutSpec(_Model):
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


class Condition(_Model):
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
                f"a condition must be a mapping, got {_describe(data)}",
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


class DispatchSpec(_Model):
    """One agent to dispatch, with optional metadata (a template string or a YAML mapping)."""

    agent: StrictStr
    metadata: str | dict[str, Any] | list[Any] | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"agent": data} if isinstance(data, str) else data

    @field_validator("agent")
    @classmethod
    def _agent_name(cls, value: str) -> str:
        if not value.strip():
            raise problem(
                "agent name is empty",
                "use the agent_name the worker registers with, e.g. agent: qualifier",
            )
        if value != value.strip():
            raise problem(f"agent name {value!r} has surrounding spaces", "remove the spaces")
        return value

    @field_validator("metadata", mode="before")
    @classmethod
    def _template(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str | dict | list):
            raise problem(
                f"metadata must be text or a mapping, got {_describe(value)}",
                "write a template such as '{room.name}' or a YAML mapping",
            )
        try:
            compile_template(value)
        except TemplateSyntaxError as exc:
            raise problem(exc.message, exc.hint) from None
        return value


class Action(_Model):
    """``then:``/``default:``: the agents to dispatch; ``nobody`` or ``dispatch: []`` for none."""

    dispatch: list[DispatchSpec]

    @model_validator(mode="before")
    @classmethod
    def _nobody(cls, data: Any) -> Any:
        if data == "nobody":
            return {"dispatch": []}
        if isinstance(data, Mapping) and data.get("dispatch") == "nobody":
            return {**data, "dispatch": []}
        if not isinstance(data, Mapping):
            raise problem(
                f"an action must be 'nobody' or a mapping with 'dispatch', got {_describe(data)}",
                "write 'nobody' or 'dispatch: [{agent: qualifier}]'",
            )
        return data


class Rule(_Model):
    """One rule: when the condition holds, ``then`` decides (first match wins)."""

    id: StrictStr
    description: StrictStr | None = None
    when: Condition
    then: Action

    @model_validator(mode="before")
    @classmethod
    def _when_shorthand(cls, data: Any) -> Any:
        if isinstance(data, Mapping):
            when = data.get("when")
            if isinstance(when, list):
                return {**data, "when": {"all": when}}
            if when == "always":
                return {**data, "when": {}}
        return data

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _RULE_ID.fullmatch(value):
            raise problem(
                f"bad rule id {value!r}",
                "use letters, digits, '-', '_' and '.', up to 63 characters (it names SIP rules)",
            )
        return value


class RulesFile(_Model):
    """A whole rules file."""

    version: StrictInt
    rules: list[Rule] = []
    default: Action

    @field_validator("version", mode="before")
    @classmethod
    def _supported(cls, value: Any) -> Any:
        if value != SCHEMA_VERSION or isinstance(value, bool):
            raise problem(
                f"unsupported rules file version {value!r}",
                f"this Switchboard reads 'version: {SCHEMA_VERSION}'",
            )
        return value

    @model_validator(mode="after")
    def _unique_ids(self) -> Self:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise PydanticCustomError(
                    "switchboard_duplicate",
                    "duplicate rule id '{rule_id}'",
                    {"rule_id": rule.id, "hint": "give every rule its own id", "at": "value"},
                )
            seen.add(rule.id)
        return self


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return f"{type(value).__name__} {value!r}"
