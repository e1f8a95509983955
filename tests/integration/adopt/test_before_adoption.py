"""The seed user's problem, reproduced with his own two programs (examples/byo/before): his
unnamed qual_agent is dispatched automatically, so when it creates the second room with
``CreateDispatch(outbound-caller)`` it joins that room too. The adoption (docs/adopt.md) exists
to make this impossible; test_adopted.py proves it is.

Then the order of the rule migration: while his trunk-wide rule exists, LiveKit keeps choosing
it over the number-scoped ``switchboard:inbound-qualifier``, so the old rule must be deleted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from livekit import api

from tests.integration.adopt.conftest import (
    BYO_RULES,
    CALLED,
    ByoSystem,
    byo_system,
    delete_the_users_rule,
    switchboard,
)
from tests.integration.adopt.observe import RoomsWatch, end_calls
from tests.integration.callflow.observe import caller_room
from tests.support.participants import eventually
from tests.support.sipp import start_tone_dtmf_caller, start_tone_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(300)]


@pytest.fixture(scope="module")
def before(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ByoSystem]:
    workdir: Path = tmp_path_factory.mktemp("byo-before")
    with byo_system(workdir, before=True) as system:
        yield system


@pytest.fixture
async def before_api(before: ByoSystem) -> AsyncIterator[api.LiveKitAPI]:
    client = before.client()
    try:
        yield client
    finally:
        await client.aclose()


async def test_the_unnamed_qual_agent_also_joins_the_room_it_made_for_the_outbound_caller(
    before: ByoSystem, before_api: api.LiveKitAPI
) -> None:
    host = before.stack.config.node_ip
    human = start_tone_uas(
        before.workdir, host, port=before.human_port, tone_hz=1000, hold_ms=30000
    )
    phone = start_tone_dtmf_caller(
        before.workdir,
        host,
        before.stack.config.sip_address,
        caller="+15557770101",
        called=CALLED,
        tone_hz=600,
        digit="1",
        presses=8,
        hold_ms=20000,
    )
    watch = RoomsWatch(before_api)
    try:
        room = await caller_room(before_api, "+15557770101")

        async def second_room_staffed() -> bool:
            return any(len(watch.agents.get(r, ())) >= 2 for r in watch.rooms("room_"))

        await eventually(second_room_staffed, timeout=120)
        [second] = watch.rooms("room_")
        # The caller's room: his rule has no room_config, so the server's automatic dispatch
        # sends the unnamed agent, as he wanted.
        assert watch.dispatches[room] == {""}
        # The second room: CreateDispatch into a room that does not exist creates it without
        # an agent list, so the automatic dispatch happens there as well.
        assert watch.dispatches[second] == {"", "outbound-caller"}
        assert watch.agents[second] == {"", "outbound-caller"}, "the default agent joined too"
    finally:
        await watch.stop()
        await end_calls(before_api, sorted(watch.dispatches))
        phone.stop()
        human.stop()


async def _dispatches_of_a_call(system: ByoSystem, lkapi: api.LiveKitAPI, caller: str) -> set[str]:
    phone = start_tone_dtmf_caller(
        system.workdir,
        system.stack.config.node_ip,
        system.stack.config.sip_address,
        caller=caller,
        called=CALLED,
        tone_hz=600,
        digit="1",
        presses=1,
        hold_ms=4000,
    )
    watch = RoomsWatch(lkapi)
    try:
        room = await caller_room(lkapi, caller)

        async def dispatched() -> bool:
            return bool(watch.dispatches.get(room))

        await eventually(dispatched, timeout=30)
        return watch.dispatches[room]
    finally:
        await watch.stop()
        await end_calls(lkapi, sorted(watch.dispatches))
        phone.stop()


async def test_the_users_old_rule_wins_over_the_switchboard_rule_until_it_is_deleted(
    before: ByoSystem, before_api: api.LiveKitAPI
) -> None:
    await asyncio.to_thread(
        switchboard, before.stack, "rules", "apply", "--sip", "--yes", "--rules", str(BYO_RULES)
    )
    for n in range(2):
        assert await _dispatches_of_a_call(before, before_api, f"+155577703{n:02}") == {""}, (
            "with both rules, the call should still go by his trunk-wide rule"
        )
    await delete_the_users_rule(before.stack)
    assert await _dispatches_of_a_call(before, before_api, "+15557770310") == {"qualifier"}
