"""One YAML file configures both agents: questions, transfer targets, fallback, speech, timeouts."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, model_validator

from switchboard.errors import ConfigError, Problem, ProblemsError
from switchboard.handoff.outcomes import RingMode
from switchboard.rules.yamlsource import parse_yaml
from switchboard.vocabulary import (
    AttributeKey,
    DialOutcome,
    Handoff,
    ParticipantKind,
    Role,
    TargetRoom,
    TransferOutcome,
)

DEFAULT_CONFIG_NAME = "default_config.yaml"
CONFIG_ENV_VAR = "SWITCHBOARD_AGENTS_CONFIG"
CALLER_NUMBER = "caller"
"""A target ``number`` meaning: call the caller back on their own number (``room: new`` only)."""

_IDENTIFIER = r"^[a-z][a-z0-9_]*$"
_AGENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
DEFAULT_QUALIFIER_NAME = "qualifier"
DEFAULT_OUTBOUND_CALLER_NAME = "outbound-caller"
_DTMF_KEY = r"^[0-9*#]$"
YesNo = Literal["yes", "no"]
FALLBACK_OUTCOMES: Final = (
    *DialOutcome,
    TransferOutcome.NO_DECISION,
    TransferOutcome.HUMAN_LEFT,
    TransferOutcome.ALL_BUSY,
)
"""The transfer outcomes a fallback may name: a failed dial, or a human who never took the call."""


def _fallback_outcome(value: str) -> str:
    if value not in FALLBACK_OUTCOMES:
        *others, last = (repr(o.value) for o in FALLBACK_OUTCOMES)
        raise ValueError(f"Input should be {', '.join(others)} or {last}")  # as pydantic's enums
    return value


FallbackOutcome = Annotated[str, AfterValidator(_fallback_outcome)]


def _yes_no_keys() -> dict[str, YesNo]:
    return {"1": "yes", "2": "no"}


def _callback_outcomes() -> list[FallbackOutcome]:
    return [
        DialOutcome.BUSY,
        DialOutcome.NO_ANSWER,
        DialOutcome.DECLINED,
        DialOutcome.TIMEOUT,
        TransferOutcome.NO_DECISION,
        TransferOutcome.HUMAN_LEFT,
        TransferOutcome.ALL_BUSY,
    ]


def _outcome_lines() -> dict[FallbackOutcome, str]:
    return {
        TransferOutcome.HUMAN_LEFT: "I'm sorry, the person I reached hung up before taking "
        "your call.",
        TransferOutcome.ALL_BUSY: "I'm sorry, everyone is still on another call.",
    }


def _human_kinds() -> list[ParticipantKind]:
    return [ParticipantKind.SIP, ParticipantKind.STANDARD]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _QuestionBase(_Model):
    id: str = Field(pattern=_IDENTIFIER, description="Slot name the answer is stored under.")
    prompt: str = Field(min_length=1)
    label: str = Field(default="", description="How the brief names this slot.")

    @property
    def display_label(self) -> str:
        return self.label or self.id.replace("_", " ").capitalize()


class YesNoQuestion(_QuestionBase):
    kind: Literal["yes_no"]
    expect: YesNo | None = None
    dtmf: dict[Annotated[str, Field(pattern=_DTMF_KEY)], YesNo] = Field(
        default_factory=_yes_no_keys
    )


class NumberRange(_Model):
    min: int | None = None
    max: int | None = None

    @model_validator(mode="after")
    def _ordered(self) -> NumberRange:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self

    def contains(self, value: int) -> bool:
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


class NumberQuestion(_QuestionBase):
    kind: Literal["number"]
    min: int = 0
    max: int = 999_999
    unit: str = Field(default="", description="Appended to the value in the brief.")
    expect: NumberRange | None = None
    dtmf: bool = Field(default=True, description="Accept digits typed on the keypad, end with #.")

    @model_validator(mode="after")
    def _ordered(self) -> NumberQuestion:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) is greater than max ({self.max})")
        return self


class Choice(_Model):
    synonyms: list[str] = Field(default_factory=list)
    dtmf: str | None = Field(default=None, pattern=_DTMF_KEY)


class ChoiceQuestion(_QuestionBase):
    kind: Literal["choice"]
    choices: dict[Annotated[str, Field(pattern=_IDENTIFIER)], Choice] = Field(min_length=2)
    expect: list[str] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ChoiceQuestion:
        unknown = [c for c in self.expect or [] if c not in self.choices]
        if unknown:
            raise ValueError(f"expect names unknown choices {unknown}; known: {list(self.choices)}")
        digits = [c.dtmf for c in self.choices.values() if c.dtmf is not None]
        if len(digits) != len(set(digits)):
            raise ValueError(f"two choices share a DTMF digit: {sorted(digits)}")
        return self


class TextQuestion(_QuestionBase):
    kind: Literal["text"]
    min_length: int = Field(default=1, ge=1)


Question = Annotated[
    YesNoQuestion | NumberQuestion | ChoiceQuestion | TextQuestion, Field(discriminator="kind")
]


class OnQualified(_Model):
    say: str = "Thank you. I'm connecting you now, please hold."
    transfer_to: str | None = Field(default=None, description="A name in transfer.targets.")


def check_agent_name(name: str) -> str:
    """``name`` if it can be a worker's ``agent_name``; else ``ValueError`` saying what can."""
    if not _AGENT_NAME.fullmatch(name):
        raise ValueError(
            f"{name!r} is not a valid agent name: use 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return name


AgentName = Annotated[str, AfterValidator(check_agent_name)]
"""A worker's ``agent_name``: what rules, dispatches and tokens name it by."""


class Qualifier(_Model):
    name: AgentName = DEFAULT_QUALIFIER_NAME
    greeting: str = Field(min_length=1)
    questions: list[Question] = Field(min_length=1)
    reprompt: str = "Sorry, I didn't catch that."
    max_attempts: int = Field(default=3, ge=1, le=10)
    on_qualified: OnQualified = OnQualified()
    on_not_qualified: str = (
        "Thank you for your time. Unfortunately we can't help with this. Goodbye."
    )
    on_gave_up: str = "Sorry, I couldn't understand your answers. Please call back later. Goodbye."

    @model_validator(mode="after")
    def _unique_ids(self) -> Qualifier:
        ids = [q.id for q in self.questions]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"question ids must be unique; repeated: {duplicates}")
        return self


_NUMBER = r"\+?[0-9]{3,15}|sips?:.+"
DIAL_SETUP_SECONDS = 15.0
"""Added to a ringing timeout: the INVITE's setup before the phone rings, and the answer."""


class HumanLine(_Model):
    """One human of a target: a number to dial, the trunk to dial it through, how long it rings."""

    number: str = Field(description="E.164 number or sip: URI to dial.")
    sip_trunk_id: str = Field(default="", description="Outbound trunk id; default: the target's.")
    ring_seconds: int = Field(default=20, ge=5, le=300, description="Ringing timeout.")
    display_name: str = Field(default="", description="Participant name; default: the target's.")

    @model_validator(mode="after")
    def _dialable(self) -> HumanLine:
        if not re.fullmatch(_NUMBER, self.number):
            raise ValueError(f"number {self.number!r} is neither E.164 (+15551234567) nor sip:")
        return self


class TransferTarget(_Model):
    display_name: str = Field(min_length=1)
    sip_trunk_id: str = Field(default="", description="Outbound trunk id, ST_...")
    number: str = Field(default="", description="E.164 number or sip: URI to dial.")
    ringing_timeout_seconds: int = Field(default=30, ge=5, le=300)
    handoff: Handoff = Field(
        default=Handoff.WARM,
        description="warm: brief the human privately, connect when they accept; "
        "direct: connect as soon as they answer.",
    )
    decision_seconds: float = Field(
        default=45, gt=0, le=600, description="Warm: answered to accept/decline, else no_decision."
    )
    room: TargetRoom = Field(
        default=TargetRoom.CALLER,
        description="caller: dial into the caller's room; new: a new room, see new_room.",
    )
    new_room: NewRoom = Field(default_factory=lambda: NewRoom())
    humans: list[HumanLine] = Field(
        default_factory=list,
        description="Several humans instead of one number (warm, room: caller); see ring.",
    )
    ring: RingMode = Field(
        default=RingMode.SEQUENTIAL,
        description="sequential: one human at a time, in order; simultaneous: all at once, "
        "the first to answer is briefed and the others are hung up.",
    )
    busy_wait_seconds: float = Field(
        default=30,
        ge=0,
        le=600,
        description="When every human is already on a call: how long the caller holds for one "
        "to free up before the fallback (all_busy).",
    )

    @model_validator(mode="after")
    def _humans_or_number(self) -> TransferTarget:
        if not self.humans:
            return self
        if self.number:
            raise ValueError("set either number or humans, not both")
        if self.room is not TargetRoom.CALLER or self.handoff is not Handoff.WARM:
            raise ValueError("humans need handoff: warm and room: caller")
        missing = [
            i for i, h in enumerate(self.humans) if not (h.sip_trunk_id or self.sip_trunk_id)
        ]
        if missing:
            raise ValueError(
                f"humans {missing} have no sip_trunk_id: set it on each human or on the target"
            )
        numbers = [h.number for h in self.humans]
        repeated = sorted({n for n in numbers if numbers.count(n) > 1})
        if repeated:
            raise ValueError(f"a human is listed twice: {repeated}")
        return self

    @model_validator(mode="after")
    def _both_or_neither(self) -> TransferTarget:
        if self.humans:
            return self
        if bool(self.sip_trunk_id) != bool(self.number):
            raise ValueError("set both sip_trunk_id and number, or neither (target not configured)")
        if self.number == CALLER_NUMBER:
            if self.room is not TargetRoom.NEW:
                raise ValueError(
                    "number 'caller' (call the caller back) needs room: new; the caller's own "
                    "room already has the caller in it"
                )
        elif self.number and not re.fullmatch(_NUMBER, self.number):
            raise ValueError(
                f"number {self.number!r} is neither E.164 (+15551234567), sip: nor 'caller'"
            )
        return self

    @property
    def configured(self) -> bool:
        return bool(self.humans) or bool(self.sip_trunk_id and self.number)

    def lines(self) -> list[HumanLine]:
        """The humans to ring, in order: ``humans``, or the single ``number`` as one line."""
        if not self.humans:
            return [
                HumanLine(
                    number=self.number,
                    sip_trunk_id=self.sip_trunk_id,
                    ring_seconds=self.ringing_timeout_seconds,
                    display_name=self.display_name,
                )
            ]
        return [
            h.model_copy(
                update={
                    "sip_trunk_id": h.sip_trunk_id or self.sip_trunk_id,
                    "display_name": h.display_name or self.display_name,
                }
            )
            for h in self.humans
        ]

    def transfer_allowance(self) -> float:
        """Seconds a warm transfer may take beyond ``timeouts.transfer_seconds``: the brief,
        and with several humans every ring and brief after the first, and the busy wait."""
        if self.handoff is not Handoff.WARM:
            return 0
        if not self.humans:
            return self.decision_seconds
        rings = [h.ring_seconds + DIAL_SETUP_SECONDS for h in self.humans]
        if self.ring is RingMode.SIMULTANEOUS:
            return self.decision_seconds + max(rings) + self.busy_wait_seconds
        return len(rings) * self.decision_seconds + sum(rings) + self.busy_wait_seconds

    @property
    def calls_caller_back(self) -> bool:
        return self.number == CALLER_NUMBER

    def number_to_dial(self, caller_number: str) -> str:
        """What to dial for a caller with phone number ``caller_number`` ("" if unknown)."""
        return caller_number if self.calls_caller_back else self.number


class Fallback(_Model):
    callback_on: list[FallbackOutcome] = Field(default_factory=_callback_outcomes)
    callback_say: str = (
        "Sorry, nobody can take your call right now. We'll call you back as soon as possible."
    )
    otherwise_say: str = "Sorry, I can't transfer your call right now. Please try again later."
    outcome_say: dict[FallbackOutcome, str] = Field(
        default_factory=_outcome_lines,
        description="Said first for these outcomes, to tell the caller what happened.",
    )

    def message_for(self, outcome: str) -> str:
        """What the caller hears when the transfer ended with ``outcome``."""
        offer = self.callback_say if outcome in self.callback_on else self.otherwise_say
        first = next((line for key, line in self.outcome_say.items() if key == outcome), "")
        return f"{first} {offer}" if first else offer


class HumanAttribute(_Model):
    name: str = Field(min_length=1)
    value: str = Field(min_length=1)


class Human(_Model):
    """Who counts as the human the call is handed to (agents leave when one joins)."""

    kinds: list[ParticipantKind] = Field(default_factory=_human_kinds)
    identity_pattern: str | None = Field(default=None, description="Regex, full match.")
    attribute: HumanAttribute | None = HumanAttribute(
        name=AttributeKey.ROLE, value=Role.HUMAN_AGENT
    )

    @model_validator(mode="after")
    def _pattern_compiles(self) -> Human:
        if self.identity_pattern is not None:
            try:
                re.compile(self.identity_pattern)
            except re.error as exc:
                raise ValueError(f"identity_pattern is not a valid regex: {exc}") from None
        return self


REPRESENTATIVE = Human(
    kinds=[ParticipantKind.STANDARD],
    attribute=HumanAttribute(name=AttributeKey.ROLE, value=Role.REPRESENTATIVE),
)
"""Who takes over a ``room: new`` call by default: a web participant with this attribute."""


class NewRoom(_Model):
    """A ``room: new`` target: the room the callee is dialed into, its lines, who takes over."""

    prefix: str = Field(default="callback_", pattern=r"^[A-Za-z0-9_-]{1,40}$")
    say_to_caller: str = Field(
        default="Thank you. We'll call you right back. Goodbye.",
        description="Said to the caller before their call is ended.",
    )
    greeting: str = Field(
        default="Hello, this is the call back you asked for. A representative will join shortly.",
        description="Said to the callee once they answer.",
    )
    say_brief: bool = Field(default=True, description="Read the brief to the callee too.")
    on_no_representative: str = (
        "Sorry, nobody is available right now. We'll call you again soon. Goodbye."
    )
    representative: Human = REPRESENTATIVE
    representative_wait_seconds: float = Field(default=120, gt=0, le=3600)
    empty_timeout_seconds: int = Field(default=60, ge=0, description="0 = server default.")
    departure_timeout_seconds: int = Field(default=20, ge=0, description="0 = server default.")

    def room_name(self, caller: str, suffix: str) -> str:
        """``callback_+15551234567_ab12cd``: the prefix, the caller (safe characters), a suffix."""
        safe = re.sub(r"[^A-Za-z0-9+]", "", caller)[:32] or "caller"
        return f"{self.prefix}{safe}_{suffix}"


class Hold(_Model):
    """What the caller hears while the human is being briefed (warm transfer)."""

    tones_hz: list[Annotated[float, Field(gt=20, lt=4000)]] = Field(
        default_factory=lambda: [440.0, 554.0], min_length=1
    )
    tone_ms: int = Field(default=400, ge=50, le=5000)
    gap_ms: int = Field(default=300, ge=0, le=5000)
    level: float = Field(default=0.15, gt=0, le=1)


class Transfer(_Model):
    targets: dict[Annotated[str, Field(pattern=_IDENTIFIER)], TransferTarget] = Field(
        default_factory=dict
    )
    fallback: Fallback = Fallback()
    human: Human = Human()
    hold: Hold = Hold()


class OutboundCaller(_Model):
    name: AgentName = DEFAULT_OUTBOUND_CALLER_NAME
    """Also the name the qualifier dispatches for a transfer."""
    accept_prompt: str = "Press 1 or say accept to take the call, 2 or decline to refuse."
    reprompt: str = "Sorry, I didn't get that."
    max_attempts: int = Field(default=2, ge=1, le=10)
    on_accepted: str = "Thank you, connecting you now."
    on_declined: str = "Understood, I'll let the caller know. Goodbye."
    on_caller_left: str = "Sorry, the caller has hung up. Goodbye."
    """Said to the human being briefed when the caller hangs up, before the human is hung up."""


class Speech(_Model):
    espeak_binary: str = "espeak-ng"
    espeak_voice: str = "en-us"
    words_per_minute: int = Field(default=170, ge=80, le=450)


class Timeouts(_Model):
    answer_seconds: float = Field(default=12, gt=0, description="Silence before a reprompt.")
    dtmf_digit_seconds: float = Field(default=3, gt=0, description="Pause that ends a number.")
    transfer_seconds: float = Field(default=90, gt=0, description="Qualified to human joined.")
    dispatch_seconds: float = Field(
        default=60, gt=0, description="Outbound-caller dispatched to joined the caller's room."
    )
    session_seconds: float = Field(default=900, gt=0, description="Cap on one whole call.")


class AgentsConfig(_Model):
    version: Literal[1] = 1
    qualifier: Qualifier
    transfer: Transfer = Transfer()
    outbound_caller: OutboundCaller = OutboundCaller()
    speech: Speech = Speech()
    timeouts: Timeouts = Timeouts()

    @model_validator(mode="after")
    def _distinct_names(self) -> AgentsConfig:
        if self.qualifier.name == self.outbound_caller.name:
            raise ValueError(
                f"qualifier.name and outbound_caller.name are both {self.qualifier.name!r}: "
                "one agent_name on two workers splits their jobs at random; give each its own"
            )
        return self

    @model_validator(mode="after")
    def _target_exists(self) -> AgentsConfig:
        name = self.qualifier.on_qualified.transfer_to
        if name is not None and name not in self.transfer.targets:
            known = list(self.transfer.targets) or "none"
            raise ValueError(
                f"qualifier.on_qualified.transfer_to names unknown target {name!r}; "
                f"transfer.targets has: {known}"
            )
        return self


ConfigIssue = Problem
"""One problem in an agents config file, at ``file:line`` (1-based; 0 when unknown)."""


class AgentsConfigError(ProblemsError, ConfigError):
    """An agents config file is invalid; ``issues`` lists every problem, in file order."""

    subject = "agents config"


def parse_config(text: str, source: str = "<string>") -> AgentsConfig:
    """Validate YAML text; raise ``AgentsConfigError`` naming ``source:line`` for each problem.

    Read as YAML 1.2 by the reader rules files use: ``yes``/``no`` are text, duplicate keys are
    errors.
    """
    try:
        document = parse_yaml(text, source, error=AgentsConfigError)
    except AgentsConfigError as exc:
        raise AgentsConfigError(_by_line(exc.issues)) from None
    if not isinstance(document.data, Mapping):
        raise AgentsConfigError(
            [ConfigIssue(source, 1, message="expected a mapping at the top level")]
        )
    issues = _by_line(document.issues)
    try:
        config = AgentsConfig.model_validate(document.data)
    except ValidationError as exc:
        issues += [
            ConfigIssue(
                source,
                document.position(error["loc"])[0],
                location=_dotted(error["loc"]),
                message=_message(error),
            )
            for error in exc.errors()
        ]
    if issues:
        raise AgentsConfigError(issues)
    return config


def load_config(path: str | Path | None = None) -> AgentsConfig:
    """Load the config at ``path``, or the packaged default when ``path`` is None."""
    if path is None:
        text = resources.files("switchboard.agents").joinpath(DEFAULT_CONFIG_NAME).read_text()
        return parse_config(text, DEFAULT_CONFIG_NAME)
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgentsConfigError(
            [ConfigIssue(str(file), message=f"cannot read: {exc.strerror or exc}")]
        ) from None
    return parse_config(text, str(file))


def _by_line(issues: Sequence[Problem]) -> list[Problem]:
    """The reader's problems as an agents config reports them: ``file:line``, no column."""
    return [replace(issue, column=0) for issue in issues]


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        return "unknown key (check spelling; see docs/agents.md for the schema)"
    if error["type"] == "union_tag_invalid":
        return "kind must be one of yes_no, number, choice, text"
    return message


def _dotted(loc: Sequence[int | str]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in _UNION_TAGS:
            text += f".{part}" if text else part
    return text


_UNION_TAGS = frozenset({"yes_no", "number", "choice", "text"})
