"""One call, one trace, as Jaeger (a real OTLP receiver) received it from the real agents.

The whole call-flow stack (livekit-server, livekit-sip, the SIP dispatch rule from the seed
rules, the qualifier and outbound-caller workers, sipp phones) runs with the standard
``OTEL_EXPORTER_OTLP_ENDPOINT`` pointing at Jaeger all-in-one. No service is in the path: the
qualifier comes from the SIP rule's room_config, so the agents find the call's trace from the
room session alone. A warm transfer and a busy human each come back as one trace whose id is the
one derived from the caller's room sid, with the steps in the order they happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from livekit import api

from switchboard.telemetry import call_span_context
from switchboard.telemetry.jaeger import Jaeger, wait_for_spans
from switchboard.tracing.steps import Step
from tests.integration.callflow.conftest import (
    CALLED,
    CallFlowSystem,
    start_callflow_system,
    system_api,
)
from tests.integration.callflow.observe import AGENT, caller_room, participants
from tests.support.participants import eventually
from tests.support.sipp import start_dtmf_caller, start_tone_dtmf_caller, start_tone_uas, start_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(300)]

SERVICE = "switchboard-agents"
PRESS_AFTER_MS = 6000


@pytest.fixture(scope="module")
def traced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CallFlowSystem, Jaeger]]:
    jaeger = Jaeger(tmp_path_factory.mktemp("jaeger") / "jaeger.log").start()
    saved = dict(os.environ)
    os.environ.update(jaeger.otel_env(SERVICE))  # the agents' workers inherit the environment
    override = {
        "transfer": {"targets": {"desk": {"handoff": "warm", "decision_seconds": 12}}},
        "timeouts": {"answer_seconds": 4},
    }
    try:
        with start_callflow_system(tmp_path_factory, override, "trace") as system:
            yield system, jaeger
    finally:
        os.environ.clear()
        os.environ.update(saved)
        jaeger.stop()


@pytest.fixture
async def lkapi(traced: tuple[CallFlowSystem, Jaeger]) -> AsyncIterator[api.LiveKitAPI]:
    async with system_api(traced[0]) as client:
        yield client


async def room_sid(lkapi: api.LiveKitAPI, room: str) -> str:
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[room]))
    return rooms.rooms[0].sid


async def agents_gone(lkapi: api.LiveKitAPI, room: str, timeout: float) -> None:
    async def gone() -> bool:
        return not any(p.kind == AGENT for p in await participants(lkapi, room))

    await eventually(gone, timeout=timeout)


class CallTrace:
    """The spans of one trace as Jaeger returns them, by start time."""

    def __init__(self, trace: dict[str, Any]) -> None:
        processes = {k: v["serviceName"] for k, v in trace["processes"].items()}
        self.spans = sorted(trace["spans"], key=lambda s: (s["startTime"], s["spanID"]))
        self.services = {processes[s["processID"]] for s in self.spans}

    def named(self, step: Step) -> list[dict[str, Any]]:
        return [s for s in self.spans if s["operationName"] == step.value]

    def one(self, step: Step) -> dict[str, Any]:
        found = self.named(step)
        assert len(found) == 1, f"{step}: {len(found)} spans in {self.names()}"
        return found[0]

    def names(self) -> list[str]:
        return [s["operationName"] for s in self.spans]

    def states(self, agent: str) -> list[str]:
        return [
            tags(s)["switchboard.state"]
            for s in self.named(Step.AGENT_STATE)
            if tags(s).get("switchboard.agent") == agent
        ]


def tags(span: dict[str, Any]) -> dict[str, Any]:
    return {t["key"]: t["value"] for t in span["tags"]}


def events(span: dict[str, Any]) -> list[str]:
    return [f["value"] for log in span["logs"] for f in log["fields"] if f["key"] == "event"]


def start(span: dict[str, Any]) -> int:
    return int(span["startTime"])


def end(span: dict[str, Any]) -> int:
    return int(span["startTime"]) + int(span["duration"])


async def call_trace(jaeger: Jaeger, sid: str, steps: set[Step], timeout: float = 30) -> CallTrace:
    """The one trace holding the call's spans; fails when they are split over several."""
    names = {s.value for s in steps}
    expected = call_span_context(sid).trace_id
    traces = await asyncio.to_thread(wait_for_spans, jaeger, SERVICE, names, timeout, expected)
    ours = [t for t in traces if int(t["traceID"], 16) == expected]
    elsewhere = sorted(
        {s["operationName"] for t in traces if t not in ours for s in t["spans"]} & names
    )
    assert len(ours) == 1, f"no trace with the room's derived id; steps in others: {elsewhere}"
    trace = CallTrace(ours[0])
    assert names <= set(trace.names()), (
        f"missing from the call's trace: {names - set(trace.names())}; in other traces: {elsewhere}"
    )
    return trace


async def test_a_warm_transfer_is_one_trace_with_its_steps_in_order(
    traced: tuple[CallFlowSystem, Jaeger], lkapi: api.LiveKitAPI
) -> None:
    system, jaeger = traced
    stack, host = system.stack, system.stack.config.node_ip
    human = start_tone_uas(
        system.workdir,
        host,
        port=system.human_port,
        tone_hz=1000.0,
        hold_ms=30000,
        press="1",
        press_after_ms=PRESS_AFTER_MS,
    )
    phone = start_tone_dtmf_caller(
        system.workdir,
        host,
        stack.config.sip_address,
        caller="+15557770101",
        called=CALLED,
        tone_hz=600.0,
        digit="1",
        presses=8,
        hold_ms=20000,
    )
    room = ""
    try:
        room = await caller_room(lkapi, "+15557770101")
        sid = await room_sid(lkapi, room)
        await asyncio.sleep(5)  # both agents are in by now
        await agents_gone(lkapi, room, timeout=120)
        trace = await call_trace(
            jaeger,
            sid,
            {Step.AGENT_STATE, Step.HOLD, Step.SIP_LEG, Step.BRIEF, Step.ACCEPT, Step.CONNECTED},
        )
    finally:
        with contextlib.suppress(api.TwirpError):
            if room:
                await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
        # livekit-sip hangs the human's leg up about a second after the room is gone; let this
        # phone take that BYE, or the next test's phone on the same port does (and sipp, taking
        # it for its own call, gives up before the INVITE it is there for).
        await asyncio.to_thread(human.wait_exit, 15)
        phone.stop()
        human.stop()
    qualifier, caller = trace.states("qualifier"), trace.states("outbound-caller")
    assert qualifier[0] == "waiting" and "transferring" in qualifier, qualifier
    assert qualifier.index("transferring") < qualifier.index("transferred"), qualifier
    assert caller[:2] == ["starting", "dialing"] and caller[-1] == "done", caller
    leg, hold = trace.one(Step.SIP_LEG), trace.one(Step.HOLD)
    brief, accept = trace.one(Step.BRIEF), trace.one(Step.ACCEPT)
    connected = trace.one(Step.CONNECTED)
    assert tags(leg)["sip.outcome"] == "answered" and tags(leg)["sip.status_code"] == 200
    assert events(leg) == ["ringing", "answered"]
    # The order of a warm transfer: dial, answer, brief, accept, connected; the caller is on
    # hold (from the end of "please hold") until the human accepted.
    assert end(leg) <= start(brief) < end(brief) <= start(accept) <= start(connected)
    assert start(hold) < end(brief) and end(hold) >= start(accept)
    assert trace.services == {SERVICE}
    root = call_span_context(sid)
    parents = {
        r["spanID"] for s in trace.spans for r in s["references"] if r["refType"] == "CHILD_OF"
    }
    assert f"{root.span_id:016x}" in parents, "the agents' spans hang off the call's root"


async def test_a_failed_dial_is_one_trace_ending_in_the_fallback(
    traced: tuple[CallFlowSystem, Jaeger], lkapi: api.LiveKitAPI
) -> None:
    system, jaeger = traced
    stack = system.stack
    human = start_uas(
        system.workdir, stack.config.node_ip, 486, "Busy Here", port=system.human_port
    )
    phone = start_dtmf_caller(
        system.workdir,
        stack.config.node_ip,
        stack.config.sip_address,
        caller="+15557770486",
        called=CALLED,
        digit="1",
        presses=16,
        hold_ms=5000,
    )
    room = ""
    try:
        room = await caller_room(lkapi, "+15557770486")
        sid = await room_sid(lkapi, room)
        trace = await call_trace(jaeger, sid, {Step.AGENT_STATE, Step.SIP_LEG}, timeout=90)

        async def fell_back() -> bool:
            nonlocal trace
            trace = await call_trace(jaeger, sid, {Step.AGENT_STATE, Step.SIP_LEG})
            return "fallback" in trace.states("qualifier")

        await eventually(fell_back, timeout=60)
    finally:
        with contextlib.suppress(api.TwirpError):
            if room:
                await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
        phone.stop()
        human.stop()
    leg = trace.one(Step.SIP_LEG)
    assert tags(leg)["sip.outcome"] == "busy" and tags(leg)["sip.status_code"] == 486
    assert tags(leg)["otel.status_code"] == "ERROR"
    assert events(leg)[:2] == ["ringing", "hung up"]
    assert not trace.named(Step.BRIEF) and not trace.named(Step.CONNECTED)
    qualifier, caller = trace.states("qualifier"), trace.states("outbound-caller")
    assert qualifier.index("transferring") < qualifier.index("fallback"), qualifier
    assert caller[:2] == ["starting", "dialing"] and "failed" in caller, caller
    fallback = next(
        s for s in trace.named(Step.AGENT_STATE) if tags(s)["switchboard.state"] == "fallback"
    )
    assert end(leg) <= start(fallback)
