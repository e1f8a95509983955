"""LiveKit's own multi-node mode: two livekit-server nodes on one Redis (``stack up --nodes 2``).

Facts m1-m7 of the semantics suite; see docs/livekit-semantics.md ("Multi-node"). Node 1 is the
entry point (``LIVEKIT_URL``, livekit-sip's ``ws_url``, the workers); node 2 only hosts rooms.
Rooms are placed at random (the default ``node_selector``), so a test that needs a room on a
given node creates rooms until one lands there.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import uuid
from array import array
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from livekit import api, rtc

from switchboard.stack.config import LiveKitNode, StackConfig
from switchboard.stack.stack import Stack
from switchboard.stack.topology import node_id, registered_node_ids, room_placement
from tests.support.participants import eventually, token
from tests.support.sipp import Sipp, start_uac
from tests.support.workers import WorkerPool, start_probe_workers

# Rooms a test may create to get one on a given node: a miss is 2**-PLACEMENT_TRIES.
PLACEMENT_TRIES = 20
DEPARTURE_TIMEOUT = 4
CALLED = "+15550107000"
# selector.AvailableSeconds in livekit-server: a node whose stats are older is not chosen.
NODE_STATS_STALE_SECONDS = 5


@dataclass
class NodeSink:
    """Records each webhook with the path it came to; ``/node-N`` says which node sent it."""

    received: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> str:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with sink._lock:
                    sink.received.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}/node-{{node}}"

    def senders(self, room: str, event: str) -> list[str]:
        with self._lock:
            return [
                path
                for path, body in self.received
                if body.get("event") == event and body.get("room", {}).get("name") == room
            ]

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


@contextmanager
def two_node_stack(webhook_url: str | None = None) -> Iterator[Stack]:
    config = StackConfig(
        nodes=2,
        webhook_urls=[webhook_url] if webhook_url else [],
        departure_timeout=DEPARTURE_TIMEOUT,
        empty_timeout=30,
    )
    stack = Stack.create(f"multinode-{uuid.uuid4().hex[:6]}", config)
    stack.start(lambda _m: None)
    try:
        yield stack
    finally:
        stack.stop()


@dataclass
class TwoNodes:
    stack: Stack
    sink: NodeSink
    workers: WorkerPool

    def node(self, number: int) -> LiveKitNode:
        return self.stack.config.livekit_nodes[number - 1]


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TwoNodes]:
    sink = NodeSink()
    url = sink.start()
    try:
        with two_node_stack(url) as stack:
            workers = start_probe_workers(stack, ["qualifier"], tmp_path_factory.mktemp("mn"))
            try:
                yield TwoNodes(stack, sink, workers)
            finally:
                workers.stop()
    finally:
        sink.stop()


@asynccontextmanager
async def node_api(stack: Stack, node: LiveKitNode) -> AsyncIterator[api.LiveKitAPI]:
    """The server API of one node."""
    client = api.LiveKitAPI(node.http_url, stack.config.api_key, stack.config.api_secret)
    try:
        yield client
    finally:
        await client.aclose()


async def room_on(stack: Stack, lkapi: api.LiveKitAPI, number: int, prefix: str) -> str:
    """Create rooms (deleting the misses) until one is hosted by node ``number``."""
    for _ in range(PLACEMENT_TRIES):
        name = f"{prefix}-{uuid.uuid4().hex[:6]}"
        await lkapi.room.create_room(api.CreateRoomRequest(name=name))
        if room_placement(stack).get(name) == number:
            return name
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=name))
    raise AssertionError(f"no room landed on node {number} in {PLACEMENT_TRIES} tries")


async def listed(lkapi: api.LiveKitAPI, names: list[str]) -> list[str]:
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest(names=names))
    return sorted(r.name for r in rooms.rooms)


async def connect(stack: Stack, node: LiveKitNode, room: str, identity: str) -> rtc.Room:
    client = rtc.Room()
    await client.connect(node.url, token(stack, room, identity))
    return client


async def test_m1_rooms_spread_over_both_nodes_and_either_node_lists_and_deletes_them(
    two_nodes: TwoNodes,
) -> None:
    stack = two_nodes.stack
    async with node_api(stack, two_nodes.node(1)) as one, node_api(stack, two_nodes.node(2)) as two:
        rooms = [await room_on(stack, one, number, "m1") for number in (1, 2)]
        placement = room_placement(stack)
        assert [placement[r] for r in rooms] == [1, 2]
        assert await listed(one, rooms) == await listed(two, rooms) == sorted(rooms)
        for room in rooms:  # each deleted through the node that does not host it
            other = two if placement[room] == 1 else one
            await other.room.delete_room(api.DeleteRoomRequest(room=room))
        assert await listed(one, rooms) == []
        assert not set(rooms) & set(room_placement(stack))


async def test_m2_clients_on_either_node_meet_in_the_room_and_media_flows(
    two_nodes: TwoNodes,
) -> None:
    """Signalling is relayed to the hosting node; media goes to the hosting node's address."""
    stack = two_nodes.stack
    async with node_api(stack, two_nodes.node(1)) as one:
        room = await room_on(stack, one, 2, "m2")
        heard = asyncio.Event()
        listeners: list[asyncio.Task[None]] = []
        via_one = await connect(stack, two_nodes.node(1), room, "via-node-1")
        via_two = rtc.Room()

        @via_two.on("track_subscribed")
        def _subscribed(track: rtc.Track, *_args: object) -> None:
            async def listen() -> None:
                async for event in rtc.AudioStream(track):
                    if any(event.frame.data):
                        heard.set()
                        return

            listeners.append(asyncio.ensure_future(listen()))

        await via_two.connect(two_nodes.node(2).url, token(stack, room, "via-node-2"))
        source = rtc.AudioSource(48000, 1)
        track = rtc.LocalAudioTrack.create_audio_track("hum", source)
        await via_one.local_participant.publish_track(track)
        try:

            async def hum() -> None:
                samples = [int(8000 * ((i // 24) % 2 * 2 - 1)) for i in range(480)]
                frame = rtc.AudioFrame(array("h", samples).tobytes(), 48000, 1, 480)
                while not heard.is_set():
                    await source.capture_frame(frame)

            await asyncio.wait_for(asyncio.gather(hum(), heard.wait()), timeout=20)
            people = await one.room.list_participants(api.ListParticipantsRequest(room=room))
            assert sorted(p.identity for p in people.participants) == ["via-node-1", "via-node-2"]
            assert room_placement(stack)[room] == 2
        finally:
            for listener in listeners:  # an audio stream left open outlives the rtc runtime
                listener.cancel()
            await asyncio.gather(*listeners, return_exceptions=True)
            await source.aclose()
            await via_one.disconnect()
            await via_two.disconnect()
            await one.room.delete_room(api.DeleteRoomRequest(room=room))


async def test_m3_the_hosting_node_alone_sends_the_rooms_webhooks(two_nodes: TwoNodes) -> None:
    stack, sink = two_nodes.stack, two_nodes.sink
    async with node_api(stack, two_nodes.node(1)) as one:
        for number in (1, 2):
            room = await room_on(stack, one, number, "m3")
            person = await connect(stack, two_nodes.node(3 - number), room, "person")

            # participant_joined is sent when the participant turns ACTIVE on the hosting
            # node, which can come after connect() returns; leaving before it sends none.
            async def active(room: str = room) -> bool:
                listed = await one.room.list_participants(api.ListParticipantsRequest(room=room))
                return any(p.state == api.ParticipantInfo.State.ACTIVE for p in listed.participants)

            await eventually(active, timeout=15)
            await person.disconnect()
            await one.room.delete_room(api.DeleteRoomRequest(room=room))

            async def finished(room: str = room) -> bool:
                return bool(sink.senders(room, "room_finished"))

            await eventually(finished, timeout=15)
            await asyncio.sleep(1)  # a duplicate from the other node would have arrived
            for event in ("room_started", "participant_joined", "room_finished"):
                assert sink.senders(room, event) == [f"/node-{number}"], event


async def test_m4_create_and_list_dispatch_work_from_either_node(two_nodes: TwoNodes) -> None:
    """Workers registered with node 1 take jobs for rooms on node 2 too."""
    stack = two_nodes.stack
    async with node_api(stack, two_nodes.node(1)) as one, node_api(stack, two_nodes.node(2)) as two:
        for number, creator in ((1, two), (2, one)):
            room = await room_on(stack, one, number, "m4")
            try:
                await creator.agent_dispatch.create_dispatch(
                    api.CreateAgentDispatchRequest(room=room, agent_name="qualifier")
                )
                for lister in (one, two):
                    dispatches = await lister.agent_dispatch.list_dispatch(room_name=room)
                    # "" is the automatic dispatch of a room created with no agent list (fact c)
                    assert [d.agent_name for d in dispatches if d.agent_name] == ["qualifier"]

                async def job_started(room: str = room) -> bool:
                    return bool(two_nodes.workers.jobs(room))

                await eventually(job_started, timeout=20)
                assert len(two_nodes.workers.jobs(room)) == 1
            finally:
                await one.room.delete_room(api.DeleteRoomRequest(room=room))


@pytest.mark.sip
async def test_m5_sip_calls_land_on_either_node_and_their_media_connects(
    two_nodes: TwoNodes, tmp_path: Path
) -> None:
    """livekit-sip joins through its ws_url (node 1) and sends media to the hosting node."""
    stack = two_nodes.stack
    host = stack.config.node_ip
    async with node_api(stack, two_nodes.node(1)) as one:
        trunk = await one.sip.create_inbound_trunk(
            api.CreateSIPInboundTrunkRequest(
                trunk=api.SIPInboundTrunkInfo(name="m5", numbers=[CALLED])
            )
        )
        rule = await one.sip.create_dispatch_rule(
            api.CreateSIPDispatchRuleRequest(
                dispatch_rule=api.SIPDispatchRuleInfo(
                    name="m5",
                    trunk_ids=[trunk.sip_trunk_id],
                    rule=api.SIPDispatchRule(
                        dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="m5")
                    ),
                )
            )
        )
        phones: list[Sipp] = []
        active: dict[int, str] = {}
        try:
            for attempt in range(PLACEMENT_TRIES):
                caller = f"+1555020{attempt:04d}"
                phones.append(
                    start_uac(
                        tmp_path,
                        host,
                        stack.config.sip_address,
                        caller=caller,
                        called=CALLED,
                        hold_ms=30000,
                    )
                )
                room = await _sip_room(one, caller)
                await _wait_sip_active(one, room)
                active.setdefault(room_placement(stack)[room], room)
                if len(active) == 2:
                    break
            assert sorted(active) == [1, 2]
        finally:
            for phone in phones:
                phone.stop()
            await one.sip.delete_dispatch_rule(
                api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
            )
            await one.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))


async def _sip_room(lkapi: api.LiveKitAPI, caller: str) -> str:
    found: list[str] = []

    async def exists() -> bool:
        rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
        found[:] = [r.name for r in rooms.rooms if r.name.startswith(f"m5_{caller}_")]
        return bool(found)

    await eventually(exists, timeout=20)
    return found[0]


async def _wait_sip_active(lkapi: api.LiveKitAPI, room: str) -> None:
    async def active() -> bool:
        people = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
        return any(
            p.kind == api.ParticipantInfo.Kind.SIP and p.state == api.ParticipantInfo.State.ACTIVE
            for p in people.participants
        )

    await eventually(active, timeout=20)


async def test_m6_sigterm_drains_a_node_its_rooms_go_on_new_rooms_go_elsewhere() -> None:
    """A node asked to stop keeps its participants until they leave, takes no new room, then
    exits and removes itself from Redis."""
    with two_node_stack() as stack:
        node_one, node_two = stack.config.livekit_nodes
        async with node_api(stack, node_one) as one:
            room = await room_on(stack, one, 2, "m6")
            person = await connect(stack, node_one, room, "stays")
            node_two_id = node_id(stack, node_two)
            process = stack.process(node_two.name)
            assert process.pid is not None
            os.kill(process.pid, signal.SIGTERM)
            await asyncio.sleep(2)
            later = [await room_on(stack, one, 1, "m6-new") for _ in range(5)]
            assert all(room_placement(stack)[r] == 1 for r in later)
            assert process.running() and node_two_id in registered_node_ids(stack)
            people = await one.room.list_participants(api.ListParticipantsRequest(room=room))
            assert [p.identity for p in people.participants] == ["stays"]
            assert person.connection_state == rtc.ConnectionState.CONN_CONNECTED
            await person.disconnect()

            async def exited() -> bool:
                return not process.running()

            await eventually(exited, timeout=20)
            assert node_two_id not in registered_node_ids(stack)


async def test_m7_a_killed_node_leaves_its_rooms_listed_and_new_rooms_go_elsewhere() -> None:
    """SIGKILL: the other node's rooms go on; the dead node's rooms stay listed (Redis still maps
    them to it, nobody closes them) and a client that signals through the live node is not told;
    a few seconds on (the dead node's stats are stale) new rooms go to the live node only."""
    with two_node_stack() as stack:
        node_one, node_two = stack.config.livekit_nodes
        async with node_api(stack, node_one) as one:
            survivor_room = await room_on(stack, one, 1, "m7-one")
            lost_room = await room_on(stack, one, 2, "m7-two")
            survivor = await connect(stack, node_one, survivor_room, "survivor")
            lost = await connect(stack, node_one, lost_room, "lost")
            try:
                stack.process(node_two.name).stop(grace=0)  # SIGTERM and, at once, SIGKILL
                await asyncio.sleep(NODE_STATS_STALE_SECONDS + 1)
                later = [f"m7-new-{i}-{uuid.uuid4().hex[:4]}" for i in range(8)]
                for name in later:
                    await one.room.create_room(api.CreateRoomRequest(name=name))
                assert {room_placement(stack)[r] for r in later} == {1}
                people = await one.room.list_participants(
                    api.ListParticipantsRequest(room=survivor_room)
                )
                assert [p.identity for p in people.participants] == ["survivor"]
                assert survivor.connection_state == rtc.ConnectionState.CONN_CONNECTED
                assert await listed(one, [lost_room]) == [lost_room]
                assert room_placement(stack)[lost_room] == 2
                assert lost.connection_state == rtc.ConnectionState.CONN_CONNECTED
            finally:
                await survivor.disconnect()
                await lost.disconnect()
