"""Native compilation: decide before LiveKit creates the room, so no webhook round trip is needed.

* Token endpoint: ``agents_for_join`` evaluates the rules against the join that is about to
  happen and gives the agents for the token's ``RoomConfiguration.agents``.
* SIP: ``compile_native`` turns the rules that only look at called number, caller number, trunk
  and participant kind into SIP dispatch rules with ``room_config.agents``; everything else stays
  "webhook only", with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from switchboard.rules.condition_models import Condition, FieldTest
from switchboard.rules.decision import AgentDispatch, Decision
from switchboard.rules.engine import CompiledRule, CompiledRules
from switchboard.rules.event import ParticipantInfo, RoomEvent, RoomInfo
from switchboard.rules.fields import parse_field_path
from switchboard.rules.sipplan import OWNED_PREFIX, SipDispatchRule
from switchboard.rules.templates import MissingFieldError

CALLED: Final = "participant.attributes[sip.trunkPhoneNumber]"
CALLER: Final = "participant.attributes[sip.phoneNumber]"
TRUNK: Final = "participant.attributes[sip.trunkID]"
_SIP_FIELDS: Final = (CALLED, CALLER, TRUNK)
_JOINED: Final = "participant_joined"


def join_decisions(
    rules: CompiledRules,
    room_name: str,
    room_metadata: str = "",
    identity: str = "",
    attributes: Mapping[str, str] | None = None,
    now: datetime | None = None,
    *,
    kind: str = "STANDARD",
) -> tuple[Decision, Decision]:
    """The decisions for the ``room_started`` and ``participant_joined`` a join will cause."""
    room = RoomInfo(name=room_name, metadata=room_metadata)
    participant = ParticipantInfo(identity=identity, kind=kind, attributes=dict(attributes or {}))
    started = rules.decide(RoomEvent(event="room_started", room=room), now)
    joined = rules.decide(RoomEvent(event=_JOINED, room=room, participant=participant), now)
    return started, joined


def agents_for_join(
    rules: CompiledRules,
    room_name: str,
    room_metadata: str = "",
    identity: str = "",
    attributes: Mapping[str, str] | None = None,
    now: datetime | None = None,
    *,
    kind: str = "STANDARD",
) -> list[AgentDispatch]:
    """The agents to put in a join token's ``RoomConfiguration.agents`` (duplicates removed).

    The token only matters when the join creates the room. An empty list leaves LiveKit's
    automatic dispatch to unnamed workers in place, so name every worker.
    """
    decisions = join_decisions(
        rules, room_name, room_metadata, identity, attributes, now, kind=kind
    )
    agents: list[AgentDispatch] = []
    for decision in decisions:
        if decision.admission is not None:
            continue  # under a limit: the service admits or queues at the webhook
        agents.extend(d for d in decision.dispatches if d not in agents)
    return agents


@dataclass(frozen=True, slots=True)
class WebhookOnly:
    """A rule that needs the webhook path, and why it cannot become a SIP dispatch rule."""

    rule_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class NativeReport:
    """Which rules compile to SIP dispatch rules (``sip_rules``) and which stay webhook only.

    The webhook service must not dispatch again for a decision whose rule is in
    ``native_rule_ids``: the SIP dispatch rule already did.
    """

    sip_rules: tuple[SipDispatchRule, ...]
    webhook_only: tuple[WebhookOnly, ...]

    @property
    def native_rule_ids(self) -> frozenset[str]:
        """Ids of the rules the SIP service handles."""
        return frozenset(rule.rule_id for rule in self.sip_rules)


class _NotNative(Exception):
    """Raised inside the analysis with the reason a rule stays webhook only."""


def compile_native(rules: CompiledRules, *, room_prefix: str = "call") -> NativeReport:
    """Split the rules into SIP dispatch rules and webhook-only rules (pure, no I/O)."""
    sip_rules: list[SipDispatchRule] = []
    webhook_only: list[WebhookOnly] = []
    for rule in rules.rules:
        try:
            sip_rules.append(_sip_rule(rule, rules.rules[: rule.position], room_prefix))
        except _NotNative as exc:
            webhook_only.append(WebhookOnly(rule.id, str(exc)))
    return NativeReport(tuple(sip_rules), tuple(webhook_only))


def _sip_rule(
    rule: CompiledRule, earlier: tuple[CompiledRule, ...], prefix: str
) -> SipDispatchRule:
    if rule.limit is not None:
        raise _NotNative("has a limit: the service admits or queues each call at the webhook")
    allowed = _sip_constraints(rule.model.when)
    for other in earlier:
        if not _disjoint(other.model.when, allowed):
            raise _NotNative(
                f"earlier rule '{other.id}' may match the same calls, and a SIP dispatch rule "
                "cannot express first-match order"
            )
    return SipDispatchRule(
        name=f"{OWNED_PREFIX}{rule.id}",
        numbers=tuple(sorted(allowed.get(CALLED, ()))),
        inbound_numbers=tuple(sorted(allowed.get(CALLER, ()))),
        trunk_ids=tuple(sorted(allowed.get(TRUNK, ()))),
        room_prefix=prefix,
        agents=_static_agents(rule, allowed),
    )


def _conjuncts(condition: Condition) -> Iterator[Condition]:
    yield condition
    for child in condition.all_ or ():
        yield from _conjuncts(child)


def _sip_constraints(condition: Condition) -> dict[str, frozenset[str]]:
    """The values each SIP field must take; raises ``_NotNative`` for anything else."""
    allowed: dict[str, frozenset[str]] = {}
    requires_sip = False
    for part in _conjuncts(condition):
        for name in ("any_", "not_", "time", "percentage"):
            if getattr(part, name) is not None:
                label = name.rstrip("_")
                raise _NotNative(f"uses '{label}', which only the webhook path can evaluate")
        for test in part.field_tests.values():
            field, values = _text_values(test)
            if field == "event":
                if _JOINED not in values:
                    raise _NotNative("does not match participant_joined, when SIP calls arrive")
            elif field == "participant.kind":
                if values != {"SIP"}:
                    raise _NotNative("matches participants other than SIP callers")
                requires_sip = True
            elif field in _SIP_FIELDS:
                allowed[field] = allowed.get(field, values) & values
                requires_sip = True
            else:
                raise _NotNative(f"uses {field}, which a SIP dispatch rule cannot test")
    if not requires_sip:
        raise _NotNative("does not require a SIP participant")
    if any(not values for values in allowed.values()):
        raise _NotNative("can never match (its number or trunk conditions contradict)")
    return allowed


def _text_values(test: FieldTest) -> tuple[str, frozenset[str]]:
    field = parse_field_path(test.field).text
    values: frozenset[str] | None = None
    for operator in test.operators:
        operand = test.value_of(operator)
        if operator not in ("eq", "in"):
            raise _NotNative(f"tests {field} with '{operator}', which needs runtime matching")
        found = frozenset([operand] if operator == "eq" else operand)
        values = found if values is None else values & found
    return field, values or frozenset()


def _disjoint(earlier: Condition, allowed: Mapping[str, frozenset[str]]) -> bool:
    """True when no SIP call that satisfies ``allowed`` can match the ``earlier`` condition."""
    for part in _conjuncts(earlier):
        for test in part.field_tests.values():
            try:
                field, values = _text_values(test)
            except _NotNative:
                continue
            if field == "event" and _JOINED not in values:
                return True
            if field == "participant.kind" and "SIP" not in values:
                return True
            if field in allowed and not allowed[field] & values:
                return True
    return False


def _static_agents(
    rule: CompiledRule, allowed: Mapping[str, frozenset[str]]
) -> tuple[AgentDispatch, ...]:
    """Render metadata now; only fields pinned to a single value are known before the call."""
    pinned = {
        field[len("participant.attributes[") : -1]: next(iter(values))
        for field, values in allowed.items()
        if len(values) == 1
    }
    participant = ParticipantInfo(kind="SIP", attributes=pinned)
    event = RoomEvent(event=_JOINED, participant=participant)
    agents = []
    for dispatch in rule.dispatches:
        for field in dispatch.template.fields:
            if field.text not in ("event", "participant.kind") and field.attribute not in pinned:
                raise _NotNative(
                    f"the metadata for agent '{dispatch.agent}' uses {{{field.text}}}, "
                    "which is only known when the call arrives"
                )
        try:
            agents.append(dispatch.render(event))
        except MissingFieldError as exc:
            raise _NotNative(
                f"the metadata uses {{{exc.field}}}, unknown before the call"
            ) from None
    return tuple(agents)
