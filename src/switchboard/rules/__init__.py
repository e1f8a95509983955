"""The rules engine: pure decisions about which agents an event dispatches (no network I/O).

Load a rules file once, then decide per event::

    rules = load_rules("rules.yaml")
    decision = rules.decide(webhook_body)   # a RoomEvent or the decoded webhook JSON
    decision.dispatches, decision.explain()
"""

from switchboard.rules.decision import (
    AgentDispatch,
    ConditionResult,
    Decision,
    DecisionKind,
    RuleTrace,
)
from switchboard.rules.engine import CompiledRules
from switchboard.rules.errors import EventError, Issue, RulesError, TemplateRenderError
from switchboard.rules.event import (
    DISPATCH_EVENT_TYPES,
    EVENT_TYPES,
    PARTICIPANT_KINDS,
    ParticipantInfo,
    RoomEvent,
    RoomInfo,
)
from switchboard.rules.loader import load_rules, load_rules_text
from switchboard.rules.models import RulesFile
from switchboard.rules.native import (
    NativeReport,
    WebhookOnly,
    agents_for_join,
    compile_native,
    join_decisions,
)
from switchboard.rules.protos import (
    from_sip_dispatch_rule_info,
    room_agent_dispatches,
    room_configuration,
    to_create_request,
    to_sip_dispatch_rule_info,
    to_update_request,
)
from switchboard.rules.reload import ReloadResult, RulesHolder
from switchboard.rules.sipplan import OWNED_PREFIX, SipDispatchRule, SipPlan, diff

__all__ = [
    "DISPATCH_EVENT_TYPES",
    "EVENT_TYPES",
    "OWNED_PREFIX",
    "PARTICIPANT_KINDS",
    "AgentDispatch",
    "CompiledRules",
    "ConditionResult",
    "Decision",
    "DecisionKind",
    "EventError",
    "Issue",
    "NativeReport",
    "ParticipantInfo",
    "ReloadResult",
    "RoomEvent",
    "RoomInfo",
    "RuleTrace",
    "RulesError",
    "RulesFile",
    "RulesHolder",
    "SipDispatchRule",
    "SipPlan",
    "TemplateRenderError",
    "WebhookOnly",
    "agents_for_join",
    "compile_native",
    "diff",
    "from_sip_dispatch_rule_info",
    "join_decisions",
    "load_rules",
    "load_rules_text",
    "room_agent_dispatches",
    "room_configuration",
    "to_create_request",
    "to_sip_dispatch_rule_info",
    "to_update_request",
]
