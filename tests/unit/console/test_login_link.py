"""One-time console login links, driven in-process through the service app (httpx ASGI)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from switchboard.console._auth import COOKIE, LoginLinks
from switchboard.service import create_app
from switchboard.settings import load_settings

TOKEN_SECRET = "console-unit-secret-" + "z" * 16
RULES = "version: 1\nrules: []\ndefault: nobody\n"
pytestmark = pytest.mark.asyncio(loop_scope="function")


@pytest_asyncio.fixture(loop_scope="function")
async def http(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    settings = load_settings(
        livekit_url="ws://127.0.0.1:9",  # nothing listens: these routes never call LiveKit
        livekit_api_key="key",
        livekit_api_secret="secret-" + "x" * 32,
        rules=rules,
        store_url=f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}",
        token_secret=TOKEN_SECRET,
        mode="function",
    )
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sb") as client:
        yield client
        await app.state.runtime.stop()


async def new_link(http: httpx.AsyncClient, next_path: str = "/phone") -> str:
    answer = await http.post(
        "/console/api/login-link",
        params={"next": next_path},
        headers={"Authorization": f"Bearer {TOKEN_SECRET}"},
    )
    assert answer.status_code == 200, answer.text
    url: str = answer.json()["url"]
    assert TOKEN_SECRET not in url
    return url


async def test_a_login_link_logs_in_once_and_lands_on_a_clean_url(http: httpx.AsyncClient) -> None:
    link = await new_link(http)
    first = await http.get(link)
    assert first.status_code == 303
    assert first.headers["location"] == "/phone"
    assert COOKIE in first.cookies
    page = await http.get("/phone")
    assert page.status_code == 200 and "<html" in page.text.lower()

    http.cookies.clear()
    again = await http.get(link)
    assert again.status_code == 401
    assert "already used or has expired" in again.text
    assert COOKIE not in again.cookies
    assert (await http.get("/phone")).status_code == 303  # back to the login form


async def test_an_unknown_link_is_refused(http: httpx.AsyncClient) -> None:
    answer = await http.get("/console/login/not-a-token")
    assert answer.status_code == 401
    assert COOKIE not in answer.cookies


async def test_the_secret_in_the_address_bar_no_longer_logs_in(http: httpx.AsyncClient) -> None:
    answer = await http.get("/console", params={"secret": TOKEN_SECRET})
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/login")
    assert COOKIE not in answer.cookies


async def test_issuing_a_link_needs_the_secret_or_a_session(http: httpx.AsyncClient) -> None:
    assert (await http.post("/console/api/login-link")).status_code == 401
    wrong = await http.post("/console/api/login-link", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    await http.get(await new_link(http))  # a logged-in browser may ask for a link too
    assert (await http.post("/console/api/login-link")).status_code == 200


async def test_a_link_only_goes_to_a_local_page(http: httpx.AsyncClient) -> None:
    link = await new_link(http, "//evil.example/")
    answer = await http.get(link)
    assert answer.headers["location"] == "/console"


async def test_a_token_expires_and_is_spent_by_any_attempt() -> None:
    links = LoginLinks(ttl=0.05)
    late, used = links.issue(), links.issue()
    assert links.redeem(used) and not links.redeem(used)
    await asyncio.sleep(0.1)
    assert not links.redeem(late)
    assert not links.redeem("")
