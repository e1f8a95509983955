"""Admission control in a rules file: ``limit:`` and ``queue:`` on a rule's ``then:``.

A limited action serves at most ``limit.calls`` rooms at a time per agent (and per ``limit.per``
key, a template such as ``{sip.trunkPhoneNumber}``); callers over the limit wait in a queue kept
by the store, with a hold agent speaking to them, or overflow when the queue is full or the wait
too long.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final, Self

from pydantic import StrictInt, StrictStr, field_validator, model_validator

from switchboard.rules.condition_models import StrictModel, describe, problem
from switchboard.rules.templates import TemplateSyntaxError, compile_template

DEFAULT_HOLD_AGENT: Final = "hold"
DEFAULT_OVERFLOW_MESSAGE: Final = (
    "All our agents are busy and the line is full. Please call again later. Goodbye."
)
ADMISSION_KEYS: Final = (
    *("limit", "queue", "calls", "per", "max_waiting", "max_wait_seconds"),
    *("announce_every_seconds", "hold_agent", "hold_audio", "overflow", "message"),
)


class HoldAudio(StrEnum):
    """What a waiting caller hears between announcements."""

    CHIME = "chime"
    SILENCE = "silence"


class OverflowKind(StrEnum):
    """What happens to a caller the queue cannot take (full) or keep (waited too long)."""

    AGENT = "agent"
    """Dispatch another agent (voicemail, a callback taker) to the caller's room."""
    MESSAGE = "message"
    """The hold agent says a message (a callback promise) and hangs up the caller."""


class Overflow(StrictModel):
    """``overflow:``: ``{agent: NAME}``, ``{message: TEXT}`` or ``hang_up`` (a polite goodbye)."""

    agent: StrictStr | None = None
    message: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if data == "hang_up":
            return {"message": DEFAULT_OVERFLOW_MESSAGE}
        if isinstance(data, str) or not isinstance(data, dict):
            raise problem(
                f"overflow must be 'hang_up' or a mapping, got {describe(data)}",
                "write 'overflow: hang_up', 'overflow: {agent: voicemail}' or "
                "'overflow: {message: We will call you back}'",
            )
        return data

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        if (self.agent is None) == (self.message is None):
            raise problem(
                "overflow needs exactly one of 'agent' or 'message'",
                "dispatch an agent ({agent: voicemail}) or say a message and hang up "
                "({message: We will call you back})",
            )
        for text, name in ((self.agent, "agent"), (self.message, "message")):
            if text is not None and not text.strip():
                raise problem(f"overflow {name} is empty", f"write the {name} to use")
        return self

    @property
    def kind(self) -> OverflowKind:
        """Dispatch an agent, or say a message and hang up."""
        return OverflowKind.AGENT if self.agent is not None else OverflowKind.MESSAGE


class Limit(StrictModel):
    """``limit:``: how many rooms the action's agents serve at once (per ``per`` key)."""

    calls: StrictInt
    per: StrictStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"calls": data} if isinstance(data, int) and not isinstance(data, bool) else data

    @field_validator("calls")
    @classmethod
    def _positive(cls, value: int) -> int:
        if value < 1:
            raise problem(f"limit.calls must be at least 1, got {value}", "write e.g. 'calls: 3'")
        return value

    @field_validator("per")
    @classmethod
    def _template(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compile_template(value)
            except TemplateSyntaxError as exc:
                raise problem(exc.message, exc.hint) from None
        return value


class QueuePolicy(StrictModel):
    """``queue:``: who waits, for how long, what they hear, and what happens on overflow."""

    max_waiting: StrictInt = 20
    max_wait_seconds: StrictInt = 300
    announce_every_seconds: StrictInt = 30
    hold_agent: StrictStr = DEFAULT_HOLD_AGENT
    hold_audio: HoldAudio = HoldAudio.CHIME
    overflow: Overflow = Overflow(message=DEFAULT_OVERFLOW_MESSAGE)

    @field_validator("max_waiting")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise problem(
                f"max_waiting must be 0 or more, got {value}",
                "0 sends every caller over the limit straight to the overflow action",
            )
        return value

    @field_validator("max_wait_seconds", "announce_every_seconds")
    @classmethod
    def _positive_seconds(cls, value: int) -> int:
        if value < 1:
            raise problem(f"expected a number of seconds >= 1, got {value}", "write e.g. 30")
        return value

    @field_validator("hold_agent")
    @classmethod
    def _agent_name(cls, value: str) -> str:
        if not value.strip() or value != value.strip():
            raise problem(
                f"bad hold_agent name {value!r}",
                "use the name the hold agent registers with (switchboard agent hold), "
                f"default {DEFAULT_HOLD_AGENT!r}",
            )
        return value
