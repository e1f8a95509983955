"""Conversions between the rules engine's plain data and LiveKit protobuf messages.

The classes come from ``livekit.protocol``; they are the very classes ``livekit.api`` re-exports
(``api.SIPDispatchRuleInfo is livekit.protocol.sip.SIPDispatchRuleInfo``), imported from there so
the pure rules package does not pull in the HTTP client.
"""

from __future__ import annotations

from collections.abc import Iterable

from livekit.protocol.agent_dispatch import RoomAgentDispatch
from livekit.protocol.room import RoomConfiguration
from livekit.protocol.sip import (
    CreateSIPDispatchRuleRequest,
    SIPDispatchRule,
    SIPDispatchRuleIndividual,
    SIPDispatchRuleInfo,
    UpdateSIPDispatchRuleRequest,
)

from switchboard.rules.decision import AgentDispatch
from switchboard.rules.sipplan import INDIVIDUAL, SipDispatchRule

_RULE_TYPES = {
    "dispatch_rule_individual": INDIVIDUAL,
    "dispatch_rule_direct": "dispatchRuleDirect",
    "dispatch_rule_callee": "dispatchRuleCallee",
}


def room_configuration(dispatches: Iterable[AgentDispatch]) -> RoomConfiguration:
    """``RoomConfiguration(agents=[...])`` for a token or a SIP rule.

    An empty list means "no explicit agents", which LiveKit treats as absent: the room then
    gets the automatic dispatch to unnamed workers.
    """
    return RoomConfiguration(agents=room_agent_dispatches(dispatches))


def room_agent_dispatches(dispatches: Iterable[AgentDispatch]) -> list[RoomAgentDispatch]:
    """One ``RoomAgentDispatch`` per agent, metadata included."""
    return [RoomAgentDispatch(agent_name=d.agent, metadata=d.metadata) for d in dispatches]


def to_sip_dispatch_rule_info(rule: SipDispatchRule) -> SIPDispatchRuleInfo:
    """The ``SIPDispatchRuleInfo`` for a desired rule (for create, or update's ``replace``)."""
    if rule.rule_type != INDIVIDUAL:
        raise ValueError(f"only {INDIVIDUAL} rules are built by Switchboard, not {rule.rule_type}")
    return SIPDispatchRuleInfo(
        sip_dispatch_rule_id=rule.sip_dispatch_rule_id,
        name=rule.name,
        rule=SIPDispatchRule(
            dispatch_rule_individual=SIPDispatchRuleIndividual(room_prefix=rule.room_prefix)
        ),
        numbers=list(rule.numbers),
        inbound_numbers=list(rule.inbound_numbers),
        trunk_ids=list(rule.trunk_ids),
        room_config=room_configuration(rule.agents),
    )


def to_create_request(rule: SipDispatchRule) -> CreateSIPDispatchRuleRequest:
    """The request for ``livekit.api`` ``sip.create_dispatch_rule``."""
    info = to_sip_dispatch_rule_info(rule)
    info.ClearField("sip_dispatch_rule_id")
    return CreateSIPDispatchRuleRequest(dispatch_rule=info)


def to_update_request(rule: SipDispatchRule) -> UpdateSIPDispatchRuleRequest:
    """``UpdateSIPDispatchRuleRequest`` replacing the server rule ``rule.sip_dispatch_rule_id``.

    With the ``livekit.api`` client, ``sip.update_dispatch_rule(rule_id, info)`` takes the
    ``SIPDispatchRuleInfo`` from ``to_sip_dispatch_rule_info`` instead.
    """
    if not rule.sip_dispatch_rule_id:
        raise ValueError(f"{rule.name}: an update needs the server's sip_dispatch_rule_id")
    return UpdateSIPDispatchRuleRequest(
        sip_dispatch_rule_id=rule.sip_dispatch_rule_id, replace=to_sip_dispatch_rule_info(rule)
    )


def from_sip_dispatch_rule_info(info: SIPDispatchRuleInfo) -> SipDispatchRule:
    """A server rule (from ``list_sip_dispatch_rule``) as plain data, ready for ``diff``."""
    kind = info.rule.WhichOneof("rule") or ""
    prefix = (
        info.rule.dispatch_rule_individual.room_prefix if kind == "dispatch_rule_individual" else ""
    )
    return SipDispatchRule(
        name=info.name,
        numbers=tuple(info.numbers),
        inbound_numbers=tuple(info.inbound_numbers),
        trunk_ids=tuple(info.trunk_ids),
        room_prefix=prefix,
        agents=tuple(
            AgentDispatch(agent.agent_name, agent.metadata) for agent in info.room_config.agents
        ),
        rule_type=_RULE_TYPES.get(kind, kind or "none"),
        sip_dispatch_rule_id=info.sip_dispatch_rule_id,
    )
