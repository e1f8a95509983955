"""The softphone and the live console in Debian's chromium against the real stack and agents."""

from __future__ import annotations

import asyncio
import re
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from livekit import api
from playwright.async_api import Browser, BrowserContext, Page, expect

from switchboard.stack.stack import Stack
from tests.e2e.conftest import QUALIFIER, SCREENSHOTS, ConsoleServer
from tests.support.sipp import start_uac

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("qualifier_worker")]

GREETING = re.compile("thanks for calling", re.I)
FIRST_QUESTION = re.compile("already a customer", re.I)
SECOND_QUESTION = re.compile("sales, support, or billing", re.I)
THIRD_QUESTION = re.compile("how urgent", re.I)
AGENT_TIMEOUT = 60_000


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": 860}
    )
    yield ctx
    await ctx.close()


async def open_phone(
    context: BrowserContext,
    server: ConsoleServer,
    room: str,
    name: str,
    *,
    representative: bool = False,
) -> Page:
    page = await context.new_page()
    await page.goto(server.login_link("/phone"))
    assert page.url == f"{server.base_url}/phone", "the login token must leave the address bar"
    await page.fill("#room", room)
    await page.fill("#name", name)
    if representative:
        await page.check("#representative")
    await page.click("#join-button")
    await expect(page.locator("body")).to_have_attribute("data-connected", "true", timeout=20_000)
    return page


async def say(page: Page, text: str) -> None:
    await page.fill("#message", text)
    await page.click("#send")
    await expect(page.locator(".line.mine").last).to_have_text(re.compile(re.escape(text)))


async def expect_agent_line(page: Page, pattern: re.Pattern[str]) -> None:
    await expect(page.locator(".line.transcription", has_text=pattern).first).to_be_visible(
        timeout=AGENT_TIMEOUT
    )


async def peak_level(page: Page, identity: str, seconds: float = 6.0) -> float:
    """The loudest RMS an AnalyserNode on ``identity``'s audio saw (the fake mic beeps)."""
    peak = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and peak <= 0.001:
        level = await page.evaluate("(id) => window.switchboardPhone.levelOf(id)", identity)
        peak = max(peak, float(level))
        await asyncio.sleep(0.05)
    return peak


async def identity_of(page: Page) -> str:
    identity: str = await page.evaluate(
        "() => window.switchboardPhone.room.localParticipant.identity"
    )
    return identity


def sales_room() -> str:
    return f"sales-{uuid.uuid4().hex[:8]}"


async def test_phone_page_greeted_by_the_qualifier_and_typed_answer_gets_next_question(
    console_server: ConsoleServer, context: BrowserContext
) -> None:
    room = sales_room()
    page = await open_phone(context, console_server, room, "Ada Caller")
    await expect(page.locator("#status")).to_contain_text(QUALIFIER)
    await expect_agent_line(page, GREETING)
    await expect_agent_line(page, FIRST_QUESTION)
    agent_row = page.locator("#participants tr[data-kind=agent]")
    await expect(agent_row).to_have_count(1)
    await expect(agent_row).to_contain_text(QUALIFIER)

    await say(page, "yes")
    await expect_agent_line(page, SECOND_QUESTION)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / "phone-qualifier.png", full_page=True)


async def test_agent_leaves_both_humans_stay_connected_and_hear_each_other(
    console_server: ConsoleServer, context: BrowserContext, livekit_stack: Stack
) -> None:
    room = sales_room()
    board = await context.new_page()
    await board.goto(console_server.login_link("/console"))
    caller = await open_phone(context, console_server, room, "Ada Caller")
    await expect_agent_line(caller, FIRST_QUESTION)
    rep = await open_phone(context, console_server, room, "Rita Rep", representative=True)
    caller_id, rep_id = await identity_of(caller), await identity_of(rep)

    await say(caller, "yes")
    await expect_agent_line(caller, SECOND_QUESTION)
    await say(caller, "sales")
    await expect_agent_line(caller, THIRD_QUESTION)
    await say(caller, "3")
    # No transfer target is configured, so the qualifier apologises and leaves the room.
    for page in (caller, rep):
        await expect(page.locator(".line.agent-left")).to_have_count(1, timeout=AGENT_TIMEOUT)
        await expect(page.locator("#agent-left")).to_be_visible()

    departure = 2 * 4  # the suite's departure_timeout is 4 s: stay past twice that
    await asyncio.sleep(departure)
    for page, other in ((caller, rep_id), (rep, caller_id)):
        await expect(page.locator("body")).to_have_attribute("data-connected", "true")
        row = page.locator(f"#participants tr[data-identity='{other}']")
        await expect(row).to_have_attribute("data-kind", "standard")
        await expect(row).to_have_attribute("data-audio", "subscribed")
        await expect(page.locator("#participants tr[data-kind=agent]")).to_have_count(0)
        assert await peak_level(page, other) > 0.001, "the other human's audio is silent"

    card = board.locator(f"section[data-room='{room}']")
    await expect(card).to_be_visible()
    timeline = card.locator(".timeline li")
    for kind in ("created", "join", "dispatch", "state", "transfer", "leave"):
        await expect(
            timeline.locator(f"xpath=self::li[@data-kind='{kind}']").first
        ).to_be_attached()
    await expect(card.locator(".timeline li[data-kind=leave]", has_text=QUALIFIER)).to_have_count(1)
    if console_server.uses_service:
        await expect(card.locator("details[data-rule=web-sales-qualifier]").first).to_be_attached(
            timeout=15_000
        )
        await expect(card.locator(".timeline li[data-kind=decision]").first).to_be_attached()
        await expect(card.locator(".timeline li[data-kind=event]").first).to_be_attached()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await caller.screenshot(path=SCREENSHOTS / "phone.png", full_page=True)
    await board.screenshot(path=SCREENSHOTS / "console.png", full_page=True)


async def test_console_updates_live_when_a_sip_call_arrives(
    console_server: ConsoleServer,
    context: BrowserContext,
    livekit_stack: Stack,
    lkapi: api.LiveKitAPI,
    tmp_path: Path,
) -> None:
    called = f"+1555{uuid.uuid4().int % 10**7:07d}"
    caller = f"+1444{called[-7:]}"
    trunk = await lkapi.sip.create_inbound_trunk(
        api.CreateSIPInboundTrunkRequest(
            trunk=api.SIPInboundTrunkInfo(name=f"e2e-{called}", numbers=[called])
        )
    )
    rule = await lkapi.sip.create_dispatch_rule(
        api.CreateSIPDispatchRuleRequest(
            dispatch_rule=api.SIPDispatchRuleInfo(
                name=f"e2e-{called}",
                trunk_ids=[trunk.sip_trunk_id],
                rule=api.SIPDispatchRule(
                    dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call")
                ),
            )
        )
    )
    board = await context.new_page()
    navigations: list[str] = []
    board.on("framenavigated", lambda frame: navigations.append(frame.url))
    await board.goto(console_server.login_link("/console"))
    await expect(board.locator("#status")).to_contain_text("live")
    loaded = list(navigations)
    phone = start_uac(
        tmp_path,
        livekit_stack.config.node_ip,
        livekit_stack.config.sip_address,
        caller=caller,
        called=called,
    )
    room = ""
    try:
        card = board.locator(f"section[data-room^='call_{caller}_']")
        await expect(card).to_have_count(1, timeout=30_000)
        sip_row = card.locator("tr[data-kind=sip]")
        await expect(sip_row).to_contain_text(caller, timeout=15_000)
        await expect(card.locator(".timeline li[data-kind=join]", has_text=caller)).to_have_count(1)
        room = await card.get_attribute("data-room") or ""
        assert navigations == loaded, "the console must update in place, over SSE"
        await board.screenshot(path=SCREENSHOTS / "console-sip.png", full_page=True)
    finally:
        if room:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
        phone.stop()
        await lkapi.sip.delete_dispatch_rule(
            api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
        )
        await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))
