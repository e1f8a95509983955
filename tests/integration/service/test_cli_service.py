"""The service commands as a user runs them (a real ``switchboard`` process) against the stack:
``explain`` after the service handled a room, ``token``, and ``rules apply --sip``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.stack import Stack
from tests.integration.service.front import WebhookFront
from tests.integration.service.harness import RunningService, switchboard
from tests.support.participants import eventually
from tests.support.workers import WorkerPool

pytestmark = pytest.mark.asyncio(loop_scope="session")
SIP_RULES = """\
version: 1
rules:
  - id: sales
    when:
      event: participant_joined
      participant.kind: SIP
      sip.trunkPhoneNumber: "+15550001111"
    then:
      dispatch:
        - agent: qualifier
          metadata: {line: sales}
  - id: outbound
    when:
      event: room_started
      room.metadata.flow: outbound
    then:
      dispatch: [outbound-caller]
default: nobody
"""


async def test_explain_shows_webhook_decision_and_dispatch_of_a_handled_room(
    service_stack: Stack,
    named_workers: WorkerPool,
    front: WebhookFront,
    service: RunningService,
    svc_api: api.LiveKitAPI,
    room_name: str,
) -> None:
    await svc_api.room.create_room(
        api.CreateRoomRequest(name=room_name, metadata='{"flow": "qualify"}')
    )
    try:

        async def dispatched() -> bool:
            jobs = await service.runtime.store.intents_for_rooms([room_name])
            return any(job.outcome == "dispatched" for job in jobs[room_name])

        await eventually(dispatched, timeout=15)
        store = service.runtime.settings.store_url
        code, out, err = await switchboard(service_stack, "explain", room_name, "--store", store)
        assert code == 0, err
        lines = out.splitlines()
        assert lines[0] == f"room {room_name}"
        kinds = [line.split()[1] for line in lines[1:] if line.startswith("  ") and "T" in line]
        assert "event" in kinds
        assert "decision" in kinds
        assert "dispatch_result" in kinds
        assert any(line.startswith("decision on EV_") and "rule qualify" in line for line in lines)
        assert "server now:" in lines
        assert any("dispatches:" in line and "qualifier" in line for line in lines)

        code, out, err = await switchboard(
            service_stack, "explain", room_name, "--store", store, "--json"
        )
        assert code == 0, err
        report = json.loads(out)
        # The agent's own participant_joined is decided too (no rule: "default").
        qualify = [d for d in report["decisions"] if d["rule"] == "qualify"]
        assert [d["dispatch"] for d in qualify] == [[{"agent": "qualifier", "metadata": ""}]]
        results = [e for e in report["timeline"] if e["kind"] == "dispatch_result"]
        assert results, report["timeline"]
        assert report["server"]["open"] is True
        assert sorted(report["server"]["dispatches"]) == ['"" (automatic)', "qualifier"]
    finally:
        await svc_api.room.delete_room(api.DeleteRoomRequest(room=room_name))


async def test_explain_of_an_unknown_room_says_nothing_was_recorded(
    service_stack: Stack, service: RunningService
) -> None:
    store = service.runtime.settings.store_url
    code, out, _ = await switchboard(service_stack, "explain", "never-seen", "--store", store)
    assert code == 0
    assert "nothing recorded for this room in the store" in out
    assert "the room is not open on the server (closed, or never created)" in out
    code, out, _ = await switchboard(
        service_stack, "explain", "never-seen", "--store", store, "--json"
    )
    assert code == 0
    assert json.loads(out)["server"] == {"open": False}


async def test_token_carries_the_agents_of_the_rules(
    service_stack: Stack, rules_path: Path
) -> None:
    code, out, err = await switchboard(
        service_stack,
        "token",
        "--room",
        "cli-room",
        "--identity",
        "alice",
        "--rules",
        str(rules_path),
        "--room-metadata",
        '{"flow": "outbound"}',
    )
    assert code == 0, err
    assert err.strip() == "agents: outbound-caller"
    verifier = api.TokenVerifier(service_stack.config.api_key, service_stack.config.api_secret)
    claims = verifier.verify(out.strip())
    assert claims.identity == "alice"
    assert claims.video is not None and claims.video.room == "cli-room"
    assert claims.room_config is not None
    assert [a.agent_name for a in claims.room_config.agents] == ["outbound-caller"]
    assert [a.metadata for a in claims.room_config.agents] == ['{"room": "cli-room"}']
    assert json.loads(claims.room_config.metadata) == {"flow": "outbound"}


async def test_token_without_a_matching_rule_has_no_agents(
    service_stack: Stack, rules_path: Path
) -> None:
    code, out, err = await switchboard(
        service_stack, "token", "--room", "r", "--identity", "bob", "--rules", str(rules_path)
    )
    assert code == 0, err
    assert err.strip() == "agents: none"
    verifier = api.TokenVerifier(service_stack.config.api_key, service_stack.config.api_secret)
    config = verifier.verify(out.strip()).room_config
    assert config is None or not config.agents


async def test_rules_apply_sip_plans_creates_applies_once_and_leaves_foreign_rules(
    service_stack: Stack, svc_api: api.LiveKitAPI, tmp_path: Path
) -> None:
    rules = tmp_path / "sip-rules.yaml"
    rules.write_text(SIP_RULES)
    foreign = await svc_api.sip.create_dispatch_rule(
        api.CreateSIPDispatchRuleRequest(
            name="hand-made",
            rule=api.SIPDispatchRule(
                dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="manual")
            ),
        )
    )
    created_ids: list[str] = []
    try:
        code, out, err = await switchboard(
            service_stack, "rules", "apply", "--sip", "--rules", str(rules)
        )
        assert code == 0, err
        assert out.splitlines() == ["create switchboard:sales"]
        assert "dry run: pass --yes to apply" in err
        assert await owned_rules(svc_api) == []

        code, out, err = await switchboard(
            service_stack, "rules", "apply", "--sip", "--yes", "--rules", str(rules)
        )
        assert code == 0, err
        assert out.splitlines()[0] == "create switchboard:sales"
        assert out.splitlines()[1].startswith("created switchboard:sales (SDR_")
        owned = await owned_rules(svc_api)
        created_ids = [info.sip_dispatch_rule_id for info in owned]
        assert [info.name for info in owned] == ["switchboard:sales"]
        info = owned[0]
        assert list(info.numbers) == ["+15550001111"]
        assert info.rule.dispatch_rule_individual.room_prefix == "call"
        assert [(a.agent_name, a.metadata) for a in info.room_config.agents] == [
            ("qualifier", '{"line":"sales"}')
        ]

        code, out, err = await switchboard(
            service_stack, "rules", "apply", "--sip", "--yes", "--rules", str(rules)
        )
        assert code == 0, err
        assert out.strip() == "nothing to change"
        assert [i.sip_dispatch_rule_id for i in await owned_rules(svc_api)] == created_ids
        names = [i.name for i in (await list_rules(svc_api))]
        assert "hand-made" in names
    finally:
        for rule_id in [*created_ids, foreign.sip_dispatch_rule_id]:
            await svc_api.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule_id)
            )
    assert await owned_rules(svc_api) == []


async def test_rules_apply_without_sip_fails_with_one_line(service_stack: Stack) -> None:
    code, _, err = await switchboard(service_stack, "rules", "apply")
    assert code == 1
    assert err.strip() == "error: nothing to apply: pass --sip"


async def list_rules(lkapi: api.LiveKitAPI) -> list[api.SIPDispatchRuleInfo]:
    response = await lkapi.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
    return list(response.items)


async def owned_rules(lkapi: api.LiveKitAPI) -> list[api.SIPDispatchRuleInfo]:
    return [i for i in await list_rules(lkapi) if i.name.startswith("switchboard:")]
