"""One call through ``switchboard serve``, one trace: the service's spans and the agents' in the
order they happened, as Jaeger (a real OTLP receiver) received them.

livekit-server posts its webhooks to ``switchboard serve`` (its own process); the SIP dispatch
rule for the sales number names no agent, and the rules' qualifier rule is webhook only (a
rollout by percentage), so the service decides, queues and dispatches the qualifier. The
qualifier and outbound-caller workers, livekit-sip and sipp phones are real; the service and the
agents export to one Jaeger through the standard ``OTEL_*`` variables, under two service names.
A warm transfer: the caller qualifies, the human accepts, both agents leave (``agents.gone``),
the room is deleted (``room.closed``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import pytest
from livekit import api

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from switchboard.telemetry import call_span_context
from switchboard.telemetry.jaeger import Jaeger, wait_for_spans
from switchboard.tracing.steps import Step
from tests.integration.callflow.conftest import (
    CALLED,
    DEPARTURE_TIMEOUT,
    _setup_sip,
    agents_config,
    start_agent,
)
from tests.integration.callflow.observe import caller_room
from tests.integration.trace.test_otlp_call_trace import (
    PRESS_AFTER_MS,
    CallTrace,
    end,
    room_sid,
    start,
    tags,
)
from tests.support.serve import start_serve
from tests.support.sipp import start_tone_dtmf_caller, start_tone_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(300)]

SERVICE: Final = "switchboard"
AGENTS: Final = "switchboard-agents"
CALLER_NUMBER: Final = "+15557770202"
RULES: Final = f"""\
version: 1
rules:
  - id: inbound-qualifier
    description: Calls to the sales line are qualified first; a rollout, so decided at the webhook.
    when:
      event: participant_joined
      participant.kind: SIP
      sip.trunkPhoneNumber: "{CALLED}"
      percentage: {{percent: 100, key: sip.phoneNumber}}
    then:
      dispatch:
        - agent: qualifier
          metadata:
            flow: inbound
            line: "{{sip.trunkPhoneNumber}}"
default: nobody
"""


@dataclass
class ServedSystem:
    stack: Stack
    jaeger: Jaeger
    human_port: int
    workdir: Path


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedSystem]:
    """Jaeger, a stack whose webhooks go to ``switchboard serve``, both agents (warm desk)."""
    workdir = tmp_path_factory.mktemp("service-trace")
    jaeger = Jaeger(workdir / "jaeger.log").start()
    saved = dict(os.environ)
    os.environ.update(jaeger.otel_env(AGENTS))  # the agents' workers inherit the environment
    port = free_port()
    config = StackConfig(
        departure_timeout=DEPARTURE_TIMEOUT,
        empty_timeout=60,
        webhook_urls=[f"http://127.0.0.1:{port}/livekit/webhook"],
    )
    stack = Stack.create(f"service-trace-{uuid.uuid4().hex[:6]}", config)
    processes: list[ManagedProcess] = []
    try:
        stack.start(lambda _m: None)
        rules = workdir / "rules.yaml"
        rules.write_text(RULES)
        env = {
            **stack.config.env(),
            **jaeger.otel_env(SERVICE),
            "SWITCHBOARD_RECONCILE_INTERVAL": "0",
        }
        processes.append(start_serve(env, workdir, rules, port=port).process)
        human_port = free_port()
        trunk_id = _setup_sip(stack, human_port, rules, (CALLED,))
        asyncio.run(dispatch_rule_without_agents(stack))
        override = {"transfer": {"targets": {"desk": {"handoff": "warm", "decision_seconds": 12}}}}
        agents_yaml = agents_config(workdir, trunk_id, override)
        for name in ("qualifier", "outbound-caller"):
            processes.append(start_agent(stack, name, agents_yaml, workdir))
        yield ServedSystem(stack, jaeger, human_port, workdir)
    finally:
        for process in reversed(processes):
            process.stop()
        stack.stop()
        os.environ.clear()
        os.environ.update(saved)
        jaeger.stop()


async def dispatch_rule_without_agents(stack: Stack) -> None:
    """A room of its own per call to ``CALLED``, no agent in it: the webhook decides."""
    config = stack.config
    lkapi = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    try:
        await lkapi.sip.create_dispatch_rule(
            api.CreateSIPDispatchRuleRequest(
                dispatch_rule=api.SIPDispatchRuleInfo(
                    name="sales calls, agents by webhook",
                    numbers=[CALLED],
                    rule=api.SIPDispatchRule(
                        dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call")
                    ),
                )
            )
        )
    finally:
        await lkapi.aclose()


@pytest.fixture
async def lkapi(served: ServedSystem) -> AsyncIterator[api.LiveKitAPI]:
    config = served.stack.config
    client = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    try:
        yield client
    finally:
        await client.aclose()


class ServedTrace(CallTrace):
    """A call's trace with each span's service (process) name."""

    def __init__(self, trace: dict[str, Any]) -> None:
        super().__init__(trace)
        self._service = {k: v["serviceName"] for k, v in trace["processes"].items()}

    def of(self, service: str, step: Step) -> list[dict[str, Any]]:
        return [s for s in self.named(step) if self._service[s["processID"]] == service]

    def one_of(self, service: str, step: Step, **attributes: Any) -> dict[str, Any]:
        found = [
            s
            for s in self.of(service, step)
            if all(tags(s).get(k) == v for k, v in attributes.items())
        ]
        assert len(found) == 1, f"{service} {step} {attributes}: {len(found)} in {self.names()}"
        return found[0]


async def served_trace(jaeger: Jaeger, sid: str, steps: set[Step], timeout: float) -> ServedTrace:
    """The one trace of the call (its id derived from ``sid``) once it holds ``steps``."""
    names = {s.value for s in steps}
    expected = call_span_context(sid).trace_id
    traces = await asyncio.to_thread(wait_for_spans, jaeger, SERVICE, names, timeout, expected)
    ours = [t for t in traces if int(t["traceID"], 16) == expected]
    assert len(ours) == 1, f"no trace with the room's derived id among {len(traces)}"
    trace = ServedTrace(ours[0])
    missing = names - set(trace.names())
    assert not missing, f"missing from the call's trace: {missing}; it holds {trace.names()}"
    return trace


async def test_a_served_warm_transfer_is_one_trace_of_the_service_and_the_agents(
    served: ServedSystem, lkapi: api.LiveKitAPI
) -> None:
    stack, host, jaeger = served.stack, served.stack.config.node_ip, served.jaeger
    human = start_tone_uas(
        served.workdir,
        host,
        port=served.human_port,
        tone_hz=1000.0,
        hold_ms=30000,
        press="1",
        press_after_ms=PRESS_AFTER_MS,
    )
    phone = start_tone_dtmf_caller(
        served.workdir,
        host,
        stack.config.sip_address,
        caller=CALLER_NUMBER,
        called=CALLED,
        tone_hz=600.0,
        digit="1",
        presses=8,
        hold_ms=20000,
    )
    room = ""
    try:
        room = await caller_room(lkapi, CALLER_NUMBER)
        sid = await room_sid(lkapi, room)
        # Both agents came and went while caller and human stayed: the service saw it.
        await served_trace(jaeger, sid, {Step.CONNECTED, Step.AGENTS_GONE}, timeout=120)
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
        everything = {
            Step.CALL,
            Step.WEBHOOK,
            Step.DECISION,
            Step.JOB_QUEUED,
            Step.JOB_CLAIMED,
            Step.CREATE_DISPATCH,
            Step.AGENT_JOINED,
            Step.SIP_LEG,
            Step.AGENT_STATE,
            Step.HOLD,
            Step.BRIEF,
            Step.ACCEPT,
            Step.CONNECTED,
            Step.AGENTS_GONE,
            Step.ROOM_CLOSED,
        }
        trace = await served_trace(jaeger, sid, everything, timeout=30)
    finally:
        with contextlib.suppress(api.TwirpError):
            if room:
                await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
        # livekit-sip hangs both legs up once the room is gone; each phone takes its BYE here,
        # not a later test's phone on the same port.
        await asyncio.to_thread(human.wait_exit, 15)
        await asyncio.to_thread(phone.wait_exit, 15)
        phone.stop()
        human.stop()
    assert trace.services == {SERVICE, AGENTS}
    decision = trace.one_of(SERVICE, Step.DECISION, **{"switchboard.rule": "inbound-qualifier"})
    (webhook,) = [
        s
        for s in trace.of(SERVICE, Step.WEBHOOK)
        if s["spanID"] in {r["spanID"] for r in decision["references"]}
    ]
    assert tags(webhook)["livekit.event"] == "participant_joined"
    queued = trace.one_of(SERVICE, Step.JOB_QUEUED, **{"switchboard.agent": "qualifier"})
    claimed = trace.one_of(SERVICE, Step.JOB_CLAIMED, **{"switchboard.agent": "qualifier"})
    assert tags(claimed)["switchboard.outcome"] == "dispatched"
    (dispatch,) = [
        s
        for s in trace.of(SERVICE, Step.CREATE_DISPATCH)
        if claimed["spanID"] in {r["spanID"] for r in s["references"]}
    ]
    joined = trace.one_of(SERVICE, Step.AGENT_JOINED, **{"switchboard.agent": "qualifier"})
    first_state = min(
        (
            s
            for s in trace.of(AGENTS, Step.AGENT_STATE)
            if tags(s)["switchboard.agent"] == "qualifier"
        ),
        key=start,
    )
    connected = trace.one_of(AGENTS, Step.CONNECTED)
    gone = trace.one_of(SERVICE, Step.AGENTS_GONE)
    assert json.loads(tags(gone)["switchboard.agents"]) == ["outbound-caller", "qualifier"]
    assert tags(gone)["switchboard.stayed"] == 2  # the caller and the human
    legs = trace.of(SERVICE, Step.SIP_LEG)
    closed = trace.one_of(SERVICE, Step.ROOM_CLOSED)
    assert {tags(leg)["sip.ended"] for leg in legs} <= {
        "participant_left",
        "participant_connection_aborted",
    }
    assert len(legs) == 2, [tags(leg) for leg in legs]  # the caller's and the human's
    # The order they happened in: received, decided, queued, claimed, dispatched, the agent
    # working and in the room, the hand-off connected, the agents gone, the legs hung up by the
    # room's deletion, the room closed. (The service places a webhook's whole-second times at
    # its prompt arrival, so its instants order with the agents' to the microsecond.)
    assert start(webhook) <= start(decision) < end(decision) <= end(webhook)
    assert end(decision) <= start(queued) <= end(webhook)  # queued as the webhook is recorded
    assert end(queued) <= start(claimed) <= start(dispatch) < end(dispatch) <= end(claimed)
    # The job reaches the worker while CreateDispatch answers: its start is what comes first.
    assert start(dispatch) <= start(first_state) and start(dispatch) <= end(joined)
    assert end(joined) <= start(connected) <= start(gone) <= end(gone)
    assert end(gone) <= min(end(leg) for leg in legs)
    assert max(end(leg) for leg in legs) <= start(closed)
    root = call_span_context(sid)
    assert trace.one_of(SERVICE, Step.CALL)["spanID"] == f"{root.span_id:016x}"
