"""A representative who ticks "I am the human representative" on `/phone` takes over a `room: new`
call: the outbound-caller recognises them and leaves, the callee stays on the line with them.

The whole flow runs for real, as in tests/integration/callflow/test_new_room_scenario.py: sipp
calls the seed number and qualifies by DTMF; the `desk` target has `room: new` and
`number: caller`, so the qualifier starts the outbound-caller in `callback_<caller>_<id>`, which
calls the caller back on a talking sipp. Then chromium opens `/phone` (the service app with the
console, against the same stack), ticks the box and joins the callback room. The role comes from
the page's token, never set by hand. With `representative_wait_seconds` at 90 s, an agent that
did not recognise the representative would stay 90 s and then hang the callee up.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from livekit import api, rtc
from playwright.async_api import Browser, BrowserContext, expect

from switchboard.vocabulary import (
    AttributeKey,
    LiveKitAttribute,
    OutboundCallerState,
    ParticipantKind,
    Role,
    SipCallStatus,
)
from tests.e2e.conftest import SCREENSHOTS, ConsoleServer, _serve
from tests.integration.callflow.conftest import (
    CALLED,
    DEPARTURE_TIMEOUT,
    CallFlowSystem,
    start_callflow_system,
    system_api,
)
from tests.integration.callflow.observe import Monitor, caller_room, participants
from tests.support.participants import eventually
from tests.support.sipp import start_dtmf_caller, start_talking_uas

pytestmark = [pytest.mark.e2e, pytest.mark.sip, pytest.mark.timeout(300)]

OUTBOUND_CALLER = "outbound-caller"
REPRESENTATIVE_WAIT_SECONDS = 90
LEAVE_TIMEOUT = 30
"""The agent left 0.9-1.8 s after the representative joined in the integration test; 30 s is
far below the 90 s after which it would leave without one."""
CONFIG_OVERRIDE = {
    "transfer": {
        "targets": {
            "desk": {
                "room": "new",
                "number": "caller",
                "new_room": {
                    "departure_timeout_seconds": DEPARTURE_TIMEOUT,
                    "representative_wait_seconds": REPRESENTATIVE_WAIT_SECONDS,
                },
            }
        }
    },
}


@pytest.fixture(scope="module")
def new_room_flow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFlowSystem]:
    with start_callflow_system(tmp_path_factory, CONFIG_OVERRIDE, "e2e-representative") as system:
        yield system


@pytest.fixture(scope="module")
def phone_server(
    new_room_flow: CallFlowSystem, rules_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsoleServer]:
    """The service app serving `/phone` for the call flow's stack."""
    store = tmp_path_factory.mktemp("representative-store")
    with _serve(new_room_flow.stack, None, rules_file, store) as server:
        yield server


@pytest.fixture
async def lkapi(new_room_flow: CallFlowSystem) -> AsyncIterator[api.LiveKitAPI]:
    async with system_api(new_room_flow) as client:
        yield client


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": 860}
    )
    yield ctx
    await ctx.close()


async def _agent_attributes(lkapi: api.LiveKitAPI, room: str, agent: str) -> dict[str, str]:
    for person in await participants(lkapi, room):
        if person.attributes.get(LiveKitAttribute.AGENT_NAME) == agent:
            return dict(person.attributes)
    return {}


async def test_representative_from_the_phone_page_takes_over_a_new_room_call(
    new_room_flow: CallFlowSystem,
    phone_server: ConsoleServer,
    lkapi: api.LiveKitAPI,
    context: BrowserContext,
) -> None:
    system, stack = new_room_flow, new_room_flow.stack
    caller = "+15551230043"
    customer = start_talking_uas(
        system.workdir, stack.config.node_ip, port=system.human_port, hold_ms=90000
    )
    phone = start_dtmf_caller(
        system.workdir,
        stack.config.node_ip,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        digit="1",
        presses=16,
        hold_ms=30000,
    )
    monitor = Monitor()
    left: dict[str, dict[str, str]] = {}
    left_at: dict[str, float] = {}

    def on_left(participant: rtc.RemoteParticipant) -> None:
        left[participant.identity] = dict(participant.attributes)
        left_at[participant.identity] = time.monotonic()

    joined_at: dict[str, float] = {}

    def on_joined(participant: rtc.RemoteParticipant) -> None:
        joined_at.setdefault(participant.identity, time.monotonic())

    monitor.room.on("participant_connected", on_joined)
    monitor.room.on("participant_disconnected", on_left)
    try:
        first_room = await caller_room(lkapi, caller)
        new_room: list[str] = []

        async def handed_off() -> bool:
            qualifier = await _agent_attributes(lkapi, first_room, "qualifier")
            new_room[:] = [qualifier.get(AttributeKey.NEW_ROOM, "")]
            return bool(new_room[0])

        await eventually(handed_off, timeout=120)
        room = new_room[0]
        await monitor.connect(stack, room)

        async def waiting_for_representative() -> bool:
            agent = await _agent_attributes(lkapi, room, OUTBOUND_CALLER)
            return agent.get(AttributeKey.STATE) == OutboundCallerState.WAITING_FOR_REPRESENTATIVE

        await eventually(waiting_for_representative, timeout=90)
        agent = next(
            p for p in await participants(lkapi, room) if p.kind == ParticipantKind.AGENT.number
        )

        page = await context.new_page()
        await page.goto(phone_server.login_link("/phone"))
        await page.fill("#room", room)
        await page.fill("#name", "Rita Rep")
        await page.check("#representative")
        clicked_at = time.monotonic()
        await page.click("#join-button")
        await expect(page.locator("body")).to_have_attribute(
            "data-connected", "true", timeout=20_000
        )
        rep = await page.evaluate("() => window.switchboardPhone.room.localParticipant.identity")

        await expect(page.locator(".line.agent-left")).to_have_count(
            1, timeout=LEAVE_TIMEOUT * 1000
        )
        await expect(page.locator(".line.agent-left")).to_contain_text(OUTBOUND_CALLER)

        async def seen_leaving() -> bool:
            return agent.identity in left

        await eventually(seen_leaving, timeout=5)
        # The page shows "connected" once its microphone is published, after the agent saw it join.
        after_click = left_at[agent.identity] - clicked_at
        after_join = left_at[agent.identity] - joined_at[rep]
        print(f"agent left {after_join:.2f} s after the join, {after_click:.2f} s after the click")
        assert after_click < LEAVE_TIMEOUT
        final = left[agent.identity]
        assert final[AttributeKey.STATE] == OutboundCallerState.DONE, final
        assert final[AttributeKey.REPRESENTATIVE] == rep, final

        people = {p.identity: p for p in await participants(lkapi, room) if p.identity != "monitor"}
        assert people[rep].attributes[AttributeKey.ROLE] == Role.REPRESENTATIVE
        assert people[rep].kind == ParticipantKind.STANDARD.number
        callees = [p for p in people.values() if p.kind == ParticipantKind.SIP.number]
        assert len(callees) == 1, people
        assert callees[0].attributes[LiveKitAttribute.SIP_CALL_STATUS] == SipCallStatus.ACTIVE
        assert callees[0].attributes[AttributeKey.ROLE] == Role.CUSTOMER
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await page.screenshot(path=SCREENSHOTS / "phone-representative.png", full_page=True)
    finally:
        await monitor.close()
        phone.stop()
        customer.stop()
