"""SB403 on a real stack whose only worker is named: a room created by a token without agents
gets the implicit dispatch, nobody takes it, and `doctor --server` says "agent did not join"."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from livekit import api

from switchboard.doctor import load_from_server, run_checks
from switchboard.stack.config import StackConfig
from switchboard.stack.stack import Stack
from tests.support.participants import eventually, join
from tests.support.workers import WorkerPool, start_probe_workers

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def named_only_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Path]]:
    """A stack of its own: the session's stack may have an unnamed worker registered."""
    stack = Stack.create(f"pytest-named-{uuid.uuid4().hex[:8]}", StackConfig(with_sip=False))
    stack.start(lambda _message: None)
    workdir = tmp_path_factory.mktemp("named-workers")
    pool: WorkerPool = start_probe_workers(stack, ["qualifier"], workdir)
    yield stack, workdir
    pool.stop()
    stack.stop()


@pytest.fixture
async def named_lkapi(named_only_stack: tuple[Stack, Path]) -> AsyncIterator[api.LiveKitAPI]:
    config = named_only_stack[0].config
    client = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    yield client
    await client.aclose()


async def test_room_from_a_token_without_agents_is_reported(
    named_only_stack: tuple[Stack, Path], named_lkapi: api.LiveKitAPI
) -> None:
    stack = named_only_stack[0]
    bare, listed = f"sandbox-{uuid.uuid4().hex[:6]}", f"listed-{uuid.uuid4().hex[:6]}"
    web_user = await join(stack, bare, "web-user")
    other_user = await join(stack, listed, "other-user", agents=["qualifier"])
    try:

        async def agent_in_listed_room() -> bool:
            response = await named_lkapi.room.list_participants(
                api.ListParticipantsRequest(room=listed)
            )
            return any(p.kind == api.ParticipantInfo.Kind.AGENT for p in response.participants)

        await eventually(agent_in_listed_room, timeout=30)

        async def bare_room_settled() -> bool:
            inventory = await load_from_server(named_lkapi)
            rooms = [r for r in inventory.server_rooms if r.name == bare]
            return bool(rooms) and (rooms[0].age_seconds or 0) >= 6

        await eventually(bare_room_settled, timeout=30)
        inventory = await load_from_server(named_lkapi)
        (room,) = [r for r in inventory.server_rooms if r.name == bare]

        assert [(d.agent_name, d.jobs) for d in room.dispatches] == [("", 0)]
        findings = [f for f in run_checks(inventory) if f.code == "SB403"]
        assert [f.severity.value for f in findings] == ["error"]
        assert bare in findings[0].message and listed not in findings[0].message
        assert "roomConfig" in findings[0].fix and "/phone" in findings[0].fix
    finally:
        await web_user.disconnect()
        await other_user.disconnect()
