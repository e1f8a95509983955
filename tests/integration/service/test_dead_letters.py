"""Dead letters as an operator meets them: the service gave up on a dispatch (here: a wrong
LIVEKIT_URL), the cause is fixed, ``switchboard jobs dead`` shows why, ``switchboard jobs retry``
queues it again and the agent joins the room once."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.config import free_port
from tests.integration.service.checks import dispatch_names
from tests.integration.service.conftest import new_stack
from tests.integration.service.harness import service_settings, start_service, switchboard
from tests.support.participants import eventually
from tests.support.workers import start_probe_workers

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def test_a_dead_letter_is_listed_with_its_reason_and_retried_once_the_cause_is_fixed(
    rules_path: Path, tmp_path: Path
) -> None:
    port = free_port()
    stack = new_stack("dead-letters", [f"http://127.0.0.1:{port}/livekit/webhook"])
    store = f"sqlite+aiosqlite:///{tmp_path / 'sb.db'}"
    nowhere = f"ws://127.0.0.1:{free_port()}"  # nothing listens: every API call is refused
    broken = service_settings(stack, rules_path, store, livekit_url=nowhere, max_attempts=2)
    workers = start_probe_workers(stack, ["qualifier"], tmp_path)
    lkapi = api.LiveKitAPI(stack.config.http_url, stack.config.api_key, stack.config.api_secret)
    room = "dead-letter-room"
    service = await start_service(broken, port)
    try:
        await lkapi.room.create_room(
            # The stack closes a never-joined room after 20 s; this one must outlive the dead
            # letter, a service restart and two CLI runs (each 2-6 s at start-up under load).
            api.CreateRoomRequest(name=room, metadata='{"flow": "qualify"}', empty_timeout=180)
        )

        async def dead() -> bool:
            return bool(await service.runtime.store.dead_letters())

        await eventually(dead, timeout=30)
        await service.stop()
        service = await start_service(service_settings(stack, rules_path, store), port)

        code, out, err = await switchboard(stack, "jobs", "dead", "--store", store)
        assert code == 0, err
        assert room in out and "qualifier" in out
        assert "gave up after 2 attempts" in out, out
        assert await dispatch_names(lkapi, room) == [""], "nothing dispatched qualifier yet"

        code, out, err = await switchboard(stack, "jobs", "retry", "--all", "--store", store)
        assert code == 0, err
        assert f"(qualifier to {room})" in out

        async def served() -> bool:
            return bool(workers.jobs(room))

        await eventually(served, timeout=20)
        assert (await dispatch_names(lkapi, room)).count("qualifier") == 1
        assert await service.runtime.store.dead_letters() == []
        timeline = [str(entry) for entry in await service.runtime.store.timeline(room)]
        assert any("revived" in entry and "gave up" in entry for entry in timeline), timeline

        code, _, err = await switchboard(stack, "jobs", "retry", "999999", "--store", store)
        assert code == 1
        assert "job 999999 is not a dead letter" in err
    finally:
        await lkapi.aclose()
        await service.stop()
        workers.stop()
        stack.stop()
