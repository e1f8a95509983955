"""The rules file schema (``version: 1``): the file, its rules and their actions.

Conditions (``when:``) are in ``condition_models``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, Self

from pydantic import Field, StrictInt, StrictStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from switchboard.rules.admission_models import Limit, QueuePolicy
from switchboard.rules.condition_models import Condition, StrictModel, describe, problem
from switchboard.rules.templates import TemplateSyntaxError, compile_template

SCHEMA_VERSION: Final = 1
_RULE_ID: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")


class DispatchSpec(StrictModel):
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
                f"metadata must be text or a mapping, got {describe(value)}",
                "write a template such as '{room.name}' or a YAML mapping",
            )
        try:
            compile_template(value)
        except TemplateSyntaxError as exc:
            raise problem(exc.message, exc.hint) from None
        return value


class Action(StrictModel):
    """``then:``/``default:``: the agents to dispatch; ``nobody`` or ``dispatch: []`` for none.

    ``limit`` and ``queue`` (``admission_models``) put the agents under admission control.
    """

    dispatch: list[DispatchSpec]
    limit: Limit | None = None
    queue: QueuePolicy | None = None

    @model_validator(mode="before")
    @classmethod
    def _nobody(cls, data: Any) -> Any:
        if data == "nobody":
            return {"dispatch": []}
        if isinstance(data, Mapping) and data.get("dispatch") == "nobody":
            return {**data, "dispatch": []}
        if not isinstance(data, Mapping):
            raise problem(
                f"an action must be 'nobody' or a mapping with 'dispatch', got {describe(data)}",
                "write 'nobody' or 'dispatch: [{agent: qualifier}]'",
            )
        return data

    @model_validator(mode="after")
    def _admission(self) -> Self:
        if self.queue is not None and self.limit is None:
            raise problem(
                "a queue without a limit never fills",
                "add 'limit: {calls: N}' next to 'queue:', or remove the queue",
            )
        if self.limit is not None and not self.dispatch:
            raise problem(
                "a limit on an action that dispatches nobody limits nothing",
                "dispatch an agent, or remove the limit",
            )
        return self


class Rule(StrictModel):
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


class RulesFile(StrictModel):
    """A whole rules file."""

    version: StrictInt
    rules: list[Rule] = Field(default_factory=list)
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
