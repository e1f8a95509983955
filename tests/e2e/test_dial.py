"""The softphone's "dial a phone into this room" against the real stack: a sipp phone behind a
real outbound trunk answers (200) or is busy (486)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from livekit import api
from playwright.async_api import Browser, BrowserContext, Page, expect

from switchboard.handoff.errors import CalleeBusy
from tests.e2e.conftest import SCREENSHOTS, DialConsole
from tests.support.sipp import Sipp, start_uas

pytestmark = pytest.mark.e2e

DIAL_TIMEOUT = 30_000


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(
        permissions=["microphone"], viewport={"width": 1280, "height": 860}
    )
    yield ctx
    await ctx.close()


@pytest.fixture
def phone(
    request: pytest.FixtureRequest, dial_console: DialConsole, tmp_path: Path
) -> Iterator[Sipp]:
    """A sipp phone on the trunk's address, answering with the parametrized SIP status."""
    code, reason = request.param
    sipp = start_uas(tmp_path, dial_console.phone_host, code, reason, port=dial_console.phone_port)
    yield sipp
    sipp.wait_exit(5)  # after the room's BYE, or at once when it rejected the call
    sipp.stop()


@pytest.fixture
async def room(lkapi: api.LiveKitAPI, phone: Sipp) -> AsyncIterator[str]:
    """A room no rule dispatches an agent to (the e2e rules only staff ``sales-*``).

    Deleted before ``phone`` stops: LiveKit's BYE must reach this test's phone, not the next
    test's phone on the same (the trunk's) port.
    """
    name = f"dial-{uuid.uuid4().hex[:8]}"
    yield name
    await lkapi.room.delete_room(api.DeleteRoomRequest(room=name))


def number() -> str:
    return f"+1555{uuid.uuid4().int % 10**7:07d}"


async def join_and_dial(context: BrowserContext, dial: DialConsole, room: str, to: str) -> Page:
    server = dial.server
    page = await context.new_page()
    await page.goto(server.login_link("/phone"))
    await page.fill("#room", room)
    await page.fill("#name", "Dora Dialer")
    await page.click("#join-button")
    await expect(page.locator("body")).to_have_attribute("data-connected", "true", timeout=20_000)
    await expect(page.locator("#dial")).to_be_visible()
    await page.fill("#number", to)
    await page.click("#dial button[type=submit]")
    return page


@pytest.mark.parametrize("phone", [(200, "OK")], indirect=True)
async def test_dialed_phone_answers_and_appears_in_the_participant_list(
    dial_console: DialConsole, context: BrowserContext, room: str, phone: Sipp
) -> None:
    to = number()
    page = await join_and_dial(context, dial_console, room, to)
    sip_row = page.locator("#participants tr[data-kind=sip]")
    await expect(sip_row).to_have_count(1, timeout=DIAL_TIMEOUT)
    await expect(sip_row).to_contain_text(to)
    await expect(page.locator("#dial-result")).to_have_text(
        f"answered: sip_{to}", timeout=DIAL_TIMEOUT
    )
    assert f"INVITE sip:{to}@" in phone.messages(), "the sipp phone did not receive the call"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(path=SCREENSHOTS / "phone-dial.png", full_page=True)


@pytest.mark.parametrize("phone", [(486, "Busy Here")], indirect=True)
async def test_busy_phone_shows_the_typed_error_on_the_page(
    dial_console: DialConsole, context: BrowserContext, room: str, phone: Sipp
) -> None:
    to = number()
    page = await join_and_dial(context, dial_console, room, to)
    message = f"SIP 486 Busy Here: {CalleeBusy.explanation} Fix: {CalleeBusy.fix}"
    await expect(page.locator("#dial-result")).to_contain_text(message, timeout=DIAL_TIMEOUT)
    await expect(page.locator("#participants tr[data-kind=sip]")).to_have_count(0)
    assert f"INVITE sip:{to}@" in phone.messages(), "the sipp phone did not receive the call"
