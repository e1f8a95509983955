"""The console's waterfall in Debian's chromium during a real call: a web caller meets the real
qualifier, a representative joins, the qualifier gives up on the transfer and leaves. The lanes
appear and update without reloading; a click on a bar shows the rule and why; the qualifier's
unconfigured transfer is marked with its fix. Screenshots go to docs/screenshots/."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Locator, Page, expect

from tests.e2e.conftest import QUALIFIER, SCREENSHOTS, ConsoleServer
from tests.e2e.test_console import (
    FIRST_QUESTION,
    SECOND_QUESTION,
    THIRD_QUESTION,
    expect_agent_line,
    open_phone,
    sales_room,
    say,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("qualifier_worker")]

DOCS_SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
LIVE = 30_000


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": 900}
    )
    yield ctx
    await ctx.close()


def lane(card: Locator, role: str) -> Locator:
    return card.locator(f".waterfall .lane-title[data-role='{role}']")


async def shoot(page: Page, card: Locator, name: str) -> None:
    """The card's area of the page: the card itself is re-rendered on every live update, so it
    is never "stable" long enough for an element screenshot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    box = await card.bounding_box()
    assert box is not None, "the room's card is not on the page"
    await page.screenshot(path=SCREENSHOTS / name, clip=box, full_page=True, animations="disabled")
    DOCS_SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(SCREENSHOTS / name, DOCS_SCREENSHOTS / name)


async def test_console_waterfall_lanes_appear_and_update_during_a_real_call(
    console_server: ConsoleServer, context: BrowserContext
) -> None:
    room = sales_room()
    board = await context.new_page()
    await board.goto(console_server.login_link("/console"))
    caller = await open_phone(context, console_server, room, "Ada Caller")
    card = board.locator(f"section[data-room='{room}']")

    await expect(lane(card, "caller")).to_have_text("caller Ada Caller", timeout=LIVE)
    await expect(lane(card, "qualifier")).to_have_text(QUALIFIER, timeout=LIVE)
    await expect(card.locator(".waterfall")).to_have_attribute("data-live", "true")
    present = card.locator(".wf-row[data-role='qualifier'][data-step='agent.state'] .bar")
    await expect(present).to_have_class("bar running", timeout=LIVE)
    await expect_agent_line(caller, FIRST_QUESTION)
    rep = await open_phone(context, console_server, room, "Rita Rep", representative=True)
    await expect(lane(card, "human")).to_have_text("human Rita Rep", timeout=LIVE)

    decision = card.locator(".wf-row[data-role='caller'][data-step='decision'] .bar")
    await decision.click()
    detail = card.locator(".bar-detail")
    await expect(detail.locator("dd[data-field='rule']")).to_have_text("web-sales-qualifier")
    await expect(detail.locator("pre.why")).to_contain_text("web-sales-qualifier")
    dispatch = card.locator(".wf-row[data-step='livekit.create_dispatch'] .wf-status")
    await expect(dispatch.first).to_have_text("rule web-sales-qualifier")
    await shoot(board, card, "waterfall-live.png")

    await say(caller, "yes")
    await expect_agent_line(caller, SECOND_QUESTION)
    await say(caller, "sales")
    await expect_agent_line(caller, THIRD_QUESTION)
    await say(caller, "3")
    # No transfer target is configured: the qualifier leaves; its bar stops, the mark appears.
    await expect(present).to_have_class("bar bad", timeout=LIVE)
    gone = card.locator(".wf-row[data-step='agents.gone']")
    await expect(gone).to_have_count(1, timeout=LIVE)
    mark = card.locator(".waterfall .marks li[data-step='agent.state']")
    await expect(mark).to_contain_text("transfer not_configured")
    await expect(mark).to_contain_text("Fix:")
    await expect(detail.locator("dd[data-field='rule']")).to_have_text("web-sales-qualifier")
    await shoot(board, card, "waterfall.png")
    await rep.close()
    await caller.close()
