"""Bring the server's ``switchboard:`` SIP dispatch rules in line with a plan from the rules."""

from __future__ import annotations

from livekit import api

from switchboard.livekit.client import LiveKitClient
from switchboard.rules import (
    SipDispatchRule,
    SipPlan,
    from_sip_dispatch_rule_info,
    to_create_request,
    to_sip_dispatch_rule_info,
)


async def list_sip_dispatch_rules(client: LiveKitClient) -> list[SipDispatchRule]:
    """Every SIP dispatch rule on the server (owned or not; ``diff`` ignores foreign ones)."""
    response = await client.call(
        "ListSIPDispatchRule",
        client.api.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest()),
    )
    return [from_sip_dispatch_rule_info(info) for info in response.items]


async def apply_sip_plan(client: LiveKitClient, plan: SipPlan) -> list[str]:
    """Create, update and delete as planned; returns one line per change made."""
    done: list[str] = []
    for rule in plan.create:
        created = await client.call(
            f"CreateSIPDispatchRule {rule.name}",
            client.api.sip.create_dispatch_rule(to_create_request(rule)),
        )
        done.append(f"created {rule.name} ({created.sip_dispatch_rule_id})")
    for rule in plan.update:
        await client.call(
            f"UpdateSIPDispatchRule {rule.name}",
            client.api.sip.update_dispatch_rule(
                rule.sip_dispatch_rule_id, to_sip_dispatch_rule_info(rule)
            ),
        )
        done.append(f"updated {rule.name} ({rule.sip_dispatch_rule_id})")
    for rule in plan.delete:
        await client.call(
            f"DeleteSIPDispatchRule {rule.name}",
            client.api.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
            ),
        )
        done.append(f"deleted {rule.name} ({rule.sip_dispatch_rule_id})")
    return done
