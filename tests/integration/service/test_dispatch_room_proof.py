"""The dispatcher's cheaper path against the real server: a fresh webhook stands in for
``ListRooms``, never for a session the store knows ended; completions share transactions."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from livekit import api

from switchboard.livekit import LiveKitClient, RoomState, ServerDispatch
from switchboard.service.dispatcher import ROOM_MISSING, Dispatcher
from switchboard.service.metrics import ServiceMetrics
from switchboard.stack.stack import Stack
from switchboard.store import Completion, JobStatus, NewDecision, NewWebhook, Store
from tests.integration.service.checks import dispatch_names
from tests.integration.service.harness import service_settings

pytestmark = pytest.mark.asyncio(loop_scope="session")
QUALIFIER = NewDecision("qualify", [("qualifier", "")], {})


class CountingClient(LiveKitClient):
    """The real client, counting the calls the dispatcher makes."""

    def __init__(self, url: str, api_key: str, api_secret: str) -> None:
        super().__init__(url, api_key, api_secret)
        self.calls: list[str] = []

    async def get_room(self, name: str) -> RoomState | None:
        self.calls.append("ListRooms")
        return await super().get_room(name)

    async def list_dispatches(self, room: str) -> list[ServerDispatch]:
        self.calls.append("ListDispatch")
        return await super().list_dispatches(room)

    async def create_dispatch(self, room: str, agent: str, metadata: str) -> ServerDispatch:
        self.calls.append("CreateDispatch")
        return await super().create_dispatch(room, agent, metadata)


class CountingStore(Store):
    """The real store, keeping the size of each completion transaction."""

    completion_batches: list[int]

    async def complete_jobs(self, completions: Sequence[Completion]) -> list[bool]:
        self.completion_batches.append(len(completions))
        return await super().complete_jobs(completions)


@pytest.fixture(params=["sqlite", "postgresql"])
def dispatch_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'switchboard.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest_asyncio.fixture(loop_scope="session")
async def store(dispatch_store_url: str) -> AsyncIterator[CountingStore]:
    opened = await CountingStore.open(dispatch_store_url)
    opened.completion_batches = []
    try:
        yield opened
    finally:
        await opened.close()


@pytest_asyncio.fixture(loop_scope="session")
async def client(service_stack: Stack) -> AsyncIterator[CountingClient]:
    config = service_stack.config
    async with CountingClient(config.url, config.api_key, config.api_secret) as counting:
        yield counting


@pytest_asyncio.fixture(loop_scope="session")
async def lkapi(service_stack: Stack) -> AsyncIterator[api.LiveKitAPI]:
    config = service_stack.config
    async with api.LiveKitAPI(config.http_url, config.api_key, config.api_secret) as opened:
        yield opened


def _dispatcher(
    stack: Stack, rules: Path, store: Store, client: LiveKitClient, **settings: Any
) -> Dispatcher:
    values = service_settings(stack, rules, store.url, **settings)
    return Dispatcher(store, client, values, ServiceMetrics(), "test-dispatcher")


def _webhook(
    kind: str, room: str, sid: str, age_seconds: float = 0.0, decision: NewDecision | None = None
) -> NewWebhook:
    event_id = f"EV_{uuid.uuid4().hex[:12]}"
    body = {
        "event": kind,
        "id": event_id,
        "room": {"name": room, "sid": sid},
        "createdAt": str(int(time.time() - age_seconds)),
    }
    return NewWebhook(event_id, kind, room, sid, json.dumps(body), decision=decision)


async def _open_room(lkapi: api.LiveKitAPI, name: str) -> api.Room:
    return await lkapi.room.create_room(api.CreateRoomRequest(name=name, empty_timeout=60))


async def _room_listed(lkapi: api.LiveKitAPI, name: str) -> bool:
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=[name]))
    return any(room.name == name for room in rooms.rooms)


async def _ended_session(
    lkapi: api.LiveKitAPI, store: CountingStore, name: str, *, finished_recorded: bool
) -> api.Room:
    """A room session that opened and was deleted: its ``room_started`` (deciding the qualifier)
    in the store, and its ``room_finished`` too when ``finished_recorded``."""
    room = await _open_room(lkapi, name)
    await lkapi.room.delete_room(api.DeleteRoomRequest(room=name))
    await store.record_webhooks([_webhook("room_started", name, room.sid, decision=QUALIFIER)])
    if finished_recorded:
        await store.record_webhooks([_webhook("room_finished", name, room.sid)])
    return room


async def test_a_fresh_first_attempt_dispatches_without_list_rooms(
    service_stack: Stack,
    rules_path: Path,
    store: CountingStore,
    client: CountingClient,
    lkapi: api.LiveKitAPI,
) -> None:
    fresh, stale = f"proof-fresh-{uuid.uuid4().hex[:6]}", f"proof-stale-{uuid.uuid4().hex[:6]}"
    rooms = {name: await _open_room(lkapi, name) for name in (fresh, stale)}
    try:
        await store.record_webhooks(
            [
                _webhook("room_started", fresh, rooms[fresh].sid, decision=QUALIFIER),
                _webhook("room_started", stale, rooms[stale].sid, 60, decision=QUALIFIER),
            ]
        )
        dispatcher = _dispatcher(service_stack, rules_path, store, client, dispatch_concurrency=1)

        report = await dispatcher.drain()

        assert report.outcomes == {"dispatched": 2}
        assert client.calls == [
            "ListDispatch",
            "CreateDispatch",
            "ListRooms",
            "ListDispatch",
            "CreateDispatch",
        ]
        for name in (fresh, stale):
            assert await dispatch_names(lkapi, name) == ["", "qualifier"]
            [job] = (await store.intents_for_rooms([name]))[name]
            assert (job.status, job.outcome) == (JobStatus.SUCCEEDED, "dispatched")
    finally:
        for name in rooms:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=name))


async def test_a_room_whose_room_finished_is_recorded_is_checked_and_not_created_again(
    service_stack: Stack,
    rules_path: Path,
    store: CountingStore,
    client: CountingClient,
    lkapi: api.LiveKitAPI,
) -> None:
    name = f"proof-finished-{uuid.uuid4().hex[:6]}"
    await _ended_session(lkapi, store, name, finished_recorded=True)
    dispatcher = _dispatcher(service_stack, rules_path, store, client)

    report = await dispatcher.drain()

    assert report.outcomes == {"retry": 1}
    assert client.calls == ["ListRooms"]
    [job] = (await store.intents_for_rooms([name]))[name]
    assert (job.status, job.last_error) == (JobStatus.PENDING, ROOM_MISSING)
    assert not await _room_listed(lkapi, name)


async def test_a_finished_session_s_job_never_lands_in_a_new_session_of_the_name(
    service_stack: Stack,
    rules_path: Path,
    store: CountingStore,
    client: CountingClient,
    lkapi: api.LiveKitAPI,
) -> None:
    name = f"proof-reopened-{uuid.uuid4().hex[:6]}"
    old = await _ended_session(lkapi, store, name, finished_recorded=True)
    new = await _open_room(lkapi, name)
    try:
        assert new.sid != old.sid
        dispatcher = _dispatcher(service_stack, rules_path, store, client)

        report = await dispatcher.drain()

        assert report.outcomes == {"dead": 1}
        assert client.calls == ["ListRooms"]
        [job] = (await store.intents_for_rooms([name]))[name]
        assert job.dead_reason is not None and f"room session {old.sid} ended" in job.dead_reason
        assert await dispatch_names(lkapi, name) == [""]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=name))


async def test_a_list_dispatch_failure_on_the_fresh_path_is_retried_with_list_rooms(
    service_stack: Stack,
    rules_path: Path,
    store: CountingStore,
    client: CountingClient,
    lkapi: api.LiveKitAPI,
) -> None:
    """A room gone with no ``room_finished`` recorded (lost, or the server restarted): the
    fresh path's ``ListDispatch`` fails, and the retry asks ``ListRooms``, creating nothing."""
    name = f"proof-vanished-{uuid.uuid4().hex[:6]}"
    await _ended_session(lkapi, store, name, finished_recorded=False)
    dispatcher = _dispatcher(
        service_stack, rules_path, store, client, backoff_base_seconds=0.01, max_attempts=2
    )

    outcomes = [await dispatcher.drain()]
    while await store.pending_count():
        await asyncio.sleep(0.05)
        outcomes.append(await dispatcher.drain())

    assert [o for report in outcomes for o in report.outcomes] == ["retry", "dead"]
    assert client.calls == ["ListDispatch", "ListRooms"]
    [job] = (await store.intents_for_rooms([name]))[name]
    assert job.status is JobStatus.DEAD
    assert job.dead_reason == f"gave up after 2 attempts; last error: {ROOM_MISSING}"
    assert not await _room_listed(lkapi, name)


async def test_completions_of_a_claim_share_transactions_and_each_job_ends_done(
    service_stack: Stack,
    rules_path: Path,
    store: CountingStore,
    client: CountingClient,
    lkapi: api.LiveKitAPI,
) -> None:
    names = [f"proof-batch-{uuid.uuid4().hex[:6]}-{i}" for i in range(24)]
    rooms = [await _open_room(lkapi, name) for name in names]
    try:
        await store.record_webhooks(
            [_webhook("room_started", r.name, r.sid, decision=QUALIFIER) for r in rooms]
        )
        dispatcher = _dispatcher(service_stack, rules_path, store, client)

        report = await dispatcher.drain()

        assert report.outcomes == {"dispatched": len(names)}
        print(f"completion transactions for {len(names)} jobs: {store.completion_batches}")
        assert sum(store.completion_batches) == len(names)
        assert len(store.completion_batches) < len(names)
        jobs = await store.intents_for_rooms(names)
        for name in names:
            [job] = jobs[name]
            assert (job.status, job.outcome) == (JobStatus.SUCCEEDED, "dispatched")
            server = await lkapi.agent_dispatch.list_dispatch(room_name=name)
            [ours] = [d.id for d in server if d.agent_name == "qualifier"]
            assert job.server_answer is not None and job.server_answer["dispatch_id"] == ours
    finally:
        for name in names:
            await lkapi.room.delete_room(api.DeleteRoomRequest(room=name))
