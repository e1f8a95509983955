"""Every examples/rules/*.yaml makes working calls behind a real ``switchboard serve``.

For each rules file, the sample webhooks in examples/rules/events/ say which events its rules
match: every rule that dispatches an agent must be matched by one of them (a new example, or a
new rule, without a sample event fails here). Each such event is then produced for real on a
LiveKit stack with SIP: a ``participant_joined`` of a SIP caller is a sipp call from the sample's
number to the sample's called number, a ``room_started`` is a room created with the sample's
metadata (its ``sip_trunk_id`` pointed at a trunk to a sipp phone). ``switchboard serve`` (the
CLI, in its own process) loads the file; the SIP dispatch rules are what ``switchboard rules
apply --sip`` makes of it, plus a plain catch-all for numbers only webhook rules handle (as
docs/rules.md asks). The bundled agents play the agents the examples name, each under that
name (``switchboard agent qualifier --agent-name qualifier-v2``). Checked: exactly the agents the
sample's decision names join the room (and start working: the qualifier asks its first
question), and an outbound call rings a sipp phone that answers.

The examples' time windows are decided at the webhook's ``createdAt``; livekit-server stamps
the current time, so the webhooks reach the service through a front that sets ``createdAt`` to
the sample's instant and signs the body again with the stack's key, as livekit-server does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from livekit import api
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.rules import CompiledRules, load_rules
from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from tests.integration.service.harness import RunningService, sign, switchboard
from tests.support.participants import eventually
from tests.support.serve import start_serve
from tests.support.sipp import Sipp, start_uac, start_uas
from tests.support.workers import wait_registered

pytestmark = [pytest.mark.sip, pytest.mark.timeout(180)]

REPO = Path(__file__).resolve().parents[3]
EXAMPLES = REPO / "examples" / "rules"
RULES_FILES = sorted(EXAMPLES.glob("*.yaml"))
SAMPLE_EVENTS = sorted((EXAMPLES / "events").glob("*.json"))
DEFAULT_AGENTS_CONFIG = REPO / "src" / "switchboard" / "agents" / "default_config.yaml"
PLAYED_BY = {
    "qualifier": "qualifier",
    "qualifier-v2": "qualifier",
    "after-hours": "qualifier",
    "outbound-caller": "outbound-caller",
}
"""Agent named in an example → the bundled agent that runs under that name here."""
WORKING_STATE = {"qualifier": "asking"}
"""switchboard.state a bundled agent publishes once it is working on the call."""
AGENT = api.ParticipantInfo.Kind.AGENT
SIP = api.ParticipantInfo.Kind.SIP


@dataclass(frozen=True)
class Scenario:
    """One sample webhook a rules file dispatches on, and the agents its decision names."""

    rules_file: Path
    rule_id: str
    event_file: Path
    agents: tuple[str, ...]

    @property
    def event(self) -> dict[str, Any]:
        payload: dict[str, Any] = json.loads(self.event_file.read_text())
        return payload


def scenarios(rules_file: Path) -> list[Scenario]:
    """One sample event per dispatching rule; fails when a dispatching rule has none."""
    rules = load_rules(rules_file)
    found: dict[str, Scenario] = {}
    for event_file in SAMPLE_EVENTS:
        decision = rules.decide(json.loads(event_file.read_text()))
        assert decision.errors == (), (event_file.name, decision.errors)
        if decision.dispatches and decision.rule_id not in found:
            agents = tuple(d.agent for d in decision.dispatches)
            found[decision.rule_id] = Scenario(rules_file, decision.rule_id, event_file, agents)
    uncovered = sorted(set(_dispatching_rules(rules)) - set(found))
    assert not uncovered, (
        f"{rules_file.name}: rules {uncovered} dispatch agents but no sample event in "
        "examples/rules/events/ matches them; add one so this test can make that call"
    )
    return [found[rule_id] for rule_id in _dispatching_rules(rules)]


def _dispatching_rules(rules: CompiledRules) -> list[str]:
    ids = [rule.id for rule in rules.model.rules if rule.then.dispatch]
    return ids + (["default"] if rules.model.default.dispatch else [])


def test_every_example_is_covered_by_sample_events_and_bundled_agents() -> None:
    assert RULES_FILES, "no examples/rules/*.yaml found"
    for rules_file in RULES_FILES:
        for scenario in scenarios(rules_file):
            unknown = [a for a in scenario.agents if a not in PLAYED_BY]
            assert not unknown, (
                f"{rules_file.name} names {unknown}: say in PLAYED_BY which bundled agent "
                "runs under that name"
            )


# --- the system: stack, front, agents, one `switchboard serve` per rules file --------------


class ClockFront:
    """Receives the stack's webhooks, sets ``createdAt`` to ``at`` (when set), signs the body
    again and forwards it to the current service."""

    def __init__(self, stack: Stack, port: int) -> None:
        self.stack = stack
        self.at: str | None = None
        self.service_url = ""
        self._client = httpx.AsyncClient(timeout=30)
        app = Starlette(routes=[Route("/livekit/webhook", self._route, methods=["POST"])])
        self.server = RunningService(app, port)

    async def _route(self, request: Request) -> Response:
        body = await request.body()
        headers = {"Content-Type": request.headers.get("content-type", "application/webhook+json")}
        if self.at is not None:
            event = json.loads(body)
            event["createdAt"] = self.at
            body = json.dumps(event, separators=(",", ":")).encode()
            headers["Authorization"] = sign(self.stack, body)
        else:
            headers["Authorization"] = request.headers.get("authorization", "")
        if not self.service_url:
            return Response(b"{}", status_code=503)
        reply = await self._client.post(
            f"{self.service_url}/livekit/webhook", content=body, headers=headers
        )
        return Response(reply.content, status_code=reply.status_code)

    async def close(self) -> None:
        await self.server.stop()
        await self._client.aclose()


@dataclass
class ExampleSystem:
    stack: Stack
    front: ClockFront
    workdir: Path
    trunk_id: str
    phone: Sipp
    lkapi: api.LiveKitAPI
    rooms_seen: set[str] = field(default_factory=set)


def _agents_config(workdir: Path) -> Path:
    path = workdir / "agents.yaml"
    path.write_text(DEFAULT_AGENTS_CONFIG.read_text())
    return path


def _start_agents(stack: Stack, workdir: Path, names: set[str]) -> list[ManagedProcess]:
    config = _agents_config(workdir)
    env = {**stack.config.env(), "LIVEKIT_AGENT_NAME": "", "LIVEKIT_AGENT_NAME_OVERRIDE": ""}
    processes = []
    for name in sorted(names):
        argv = [
            sys.executable,
            "-m",
            "switchboard.cli",
            "agent",
            PLAYED_BY[name],
            "--agent-name",
            name,
            "--config",
            str(config),
            "--http-port",
            "0",
            "--ignore-load",
            "--idle-processes",
            "1",
        ]
        process = ManagedProcess(
            name=f"agent-{name}", argv=argv, log_path=workdir / f"agent-{name}.log", env=env
        )
        process.start()
        processes.append(process)
    try:
        for process in processes:
            wait_registered(process, timeout=90)
    except BaseException:
        for process in processes:
            process.stop()
        raise
    return processes


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("examples")


@pytest.fixture(scope="module")
def front_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def example_stack(front_port: int) -> Iterator[Stack]:
    stack = Stack.create(
        f"examples-{uuid.uuid4().hex[:6]}",
        StackConfig(
            webhook_urls=[f"http://127.0.0.1:{front_port}/livekit/webhook"],
            departure_timeout=4,
            empty_timeout=30,
        ),
    )
    stack.start(lambda _message: None)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def example_agents(example_stack: Stack, workdir: Path) -> Iterator[list[ManagedProcess]]:
    names = {a for f in RULES_FILES for s in scenarios(f) for a in s.agents}
    processes = _start_agents(example_stack, workdir, names)
    yield processes
    for process in processes:
        process.stop()


@pytest_asyncio.fixture(scope="module")
async def system(
    example_stack: Stack,
    example_agents: list[ManagedProcess],
    front_port: int,
    workdir: Path,
) -> AsyncIterator[ExampleSystem]:
    config = example_stack.config
    lkapi = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    phone = start_uas(workdir, config.node_ip, 200)
    front = ClockFront(example_stack, front_port)
    await front.server.start()
    try:
        called = sorted({_called(s.event) for f in RULES_FILES for s in scenarios(f)} - {""})
        await lkapi.sip.create_inbound_trunk(
            api.CreateSIPInboundTrunkRequest(
                trunk=api.SIPInboundTrunkInfo(name="examples inbound", numbers=called)
            )
        )
        outbound = await lkapi.sip.create_outbound_trunk(
            api.CreateSIPOutboundTrunkRequest(
                trunk=api.SIPOutboundTrunkInfo(
                    name="to the customer", address=phone.address, numbers=["+15550100000"]
                )
            )
        )
        yield ExampleSystem(example_stack, front, workdir, outbound.sip_trunk_id, phone, lkapi)
    finally:
        await front.close()
        phone.stop()
        await lkapi.aclose()


def _called(event: dict[str, Any]) -> str:
    attributes: dict[str, str] = event.get("participant", {}).get("attributes", {})
    return attributes.get("sip.trunkPhoneNumber", "")


async def _serve(system: ExampleSystem, rules_file: Path) -> ManagedProcess:
    """``switchboard serve --rules FILE`` with the SIP dispatch rules made for it."""
    name = rules_file.stem
    env = {
        **system.stack.config.env(),
        # The reconciler would decide from the rooms' real creation time.
        "SWITCHBOARD_RECONCILE_INTERVAL": "0",
        "SWITCHBOARD_POLL_INTERVAL": "0.2",
    }
    served = await asyncio.to_thread(
        start_serve,
        env,
        system.workdir,
        rules_file,
        store_url=f"sqlite+aiosqlite:///{system.workdir / name}.db",
        name=f"serve-{name}",
    )
    system.front.service_url = served.url
    await _sip_dispatch_rules(system, rules_file)
    return served.process


async def _sip_dispatch_rules(system: ExampleSystem, rules_file: Path) -> None:
    """Only this file's rules: ``rules apply --sip``, then a catch-all (no agents) for numbers
    that no native rule takes, so their calls reach a room and the webhook decides."""
    lkapi = system.lkapi
    for rule in (await lkapi.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items:
        await lkapi.sip.delete_dispatch_rule(
            api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
        )
    code, out, err = await switchboard(
        system.stack, "rules", "apply", "--sip", "--yes", "--rules", str(rules_file)
    )
    assert code == 0, out + err
    native = {
        number
        for rule in (await lkapi.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())).items
        for number in rule.numbers
    }
    webhook_only = sorted({_called(s.event) for s in scenarios(rules_file)} - {""} - native)
    if webhook_only:
        await lkapi.sip.create_dispatch_rule(
            api.CreateSIPDispatchRuleRequest(
                dispatch_rule=api.SIPDispatchRuleInfo(
                    name="examples catch-all",
                    numbers=webhook_only,
                    rule=api.SIPDispatchRule(
                        dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call")
                    ),
                )
            )
        )


# --- producing each event, and what must follow -------------------------------------------


async def _participants(lkapi: api.LiveKitAPI, room: str) -> list[api.ParticipantInfo]:
    response = await lkapi.room.list_participants(api.ListParticipantsRequest(room=room))
    return list(response.participants)


class RoomWatch:
    """Every agent that was ever in ``room`` (polled every 0.1 s), and their attributes."""

    def __init__(self, lkapi: api.LiveKitAPI, room: str) -> None:
        self.lkapi, self.room = lkapi, room
        self.agents: dict[str, dict[str, str]] = {}
        self.people: list[api.ParticipantInfo] = []
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                self.people = await _participants(self.lkapi, self.room)
            except api.TwirpError:
                self.people = []
            for person in self.people:
                if person.kind == AGENT:
                    name = person.attributes.get("lk.agent_name", "")
                    self.agents.setdefault(name, {}).update(person.attributes)
            await asyncio.sleep(0.1)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


def _working(agent: str, attributes: dict[str, str] | None) -> bool:
    if attributes is None:
        return False
    state = WORKING_STATE.get(PLAYED_BY[agent])
    return state is None or attributes.get("switchboard.state") == state


async def _new_call_room(system: ExampleSystem, caller: str) -> str:
    found: list[str] = []

    async def exists() -> bool:
        rooms = await system.lkapi.room.list_rooms(api.ListRoomsRequest())
        found[:] = [
            r.name
            for r in rooms.rooms
            if r.name.startswith(f"call_{caller}_") and r.name not in system.rooms_seen
        ]
        return bool(found)

    await eventually(exists, timeout=30)
    system.rooms_seen.add(found[0])
    return found[0]


async def _sip_call(system: ExampleSystem, scenario: Scenario) -> None:
    attributes = scenario.event["participant"]["attributes"]
    caller, called = attributes["sip.phoneNumber"], attributes["sip.trunkPhoneNumber"]
    config = system.stack.config
    sipp = start_uac(
        system.workdir,
        config.node_ip,
        config.sip_address,
        caller=caller,
        called=called,
        hold_ms=30000,
    )
    watch: RoomWatch | None = None
    try:
        room = await _new_call_room(system, caller)
        watch = RoomWatch(system.lkapi, room)

        async def working() -> bool:
            assert watch is not None
            return all(_working(agent, watch.agents.get(agent)) for agent in scenario.agents)

        await eventually(working, timeout=60)
        await asyncio.sleep(2)  # a second agent, dispatched twice, would have joined by now
        assert sorted(watch.agents) == sorted(scenario.agents), (scenario, watch.agents)
        caller_in = [p for p in watch.people if p.kind == SIP]
        assert [p.attributes.get("sip.phoneNumber") for p in caller_in] == [caller]
        dispatches = await system.lkapi.agent_dispatch.list_dispatch(room_name=room)
        assert {d.agent_name for d in dispatches} - {""} == set(scenario.agents)
    finally:
        if watch is not None:
            await watch.stop()
        sipp.stop()


async def _outbound_room(system: ExampleSystem, scenario: Scenario) -> None:
    room_info = scenario.event["room"]
    metadata = json.loads(room_info["metadata"])
    metadata["sip_trunk_id"] = system.trunk_id  # the sample's trunk id is made up
    room = f"{room_info['name']}-{uuid.uuid4().hex[:6]}"
    invites_before = system.phone.messages().count("INVITE sip:")
    await system.lkapi.room.create_room(
        api.CreateRoomRequest(name=room, metadata=json.dumps(metadata))
    )
    watch = RoomWatch(system.lkapi, room)
    try:
        callee = json.loads(_rule_metadata(scenario)).get("human_identity", "")

        async def answered() -> bool:
            return any(
                p.kind == SIP
                and (not callee or p.identity == callee)
                and p.attributes.get("sip.callStatus") == "active"
                for p in watch.people
            )

        await eventually(answered, timeout=40)
        assert system.phone.messages().count("INVITE sip:") > invites_before
        await asyncio.sleep(2)
        assert sorted(watch.agents) == sorted(scenario.agents), (scenario, watch.agents)
        for agent in scenario.agents:
            assert watch.agents[agent].get("switchboard.error", "") == "", watch.agents[agent]
    finally:
        await watch.stop()
        with contextlib.suppress(api.TwirpError):  # closed already once empty
            await system.lkapi.room.delete_room(api.DeleteRoomRequest(room=room))


def _rule_metadata(scenario: Scenario) -> str:
    """The metadata the service renders for the sample (its trunk id is replaced later)."""
    decision = load_rules(scenario.rules_file).decide(scenario.event)
    return decision.dispatches[0].metadata


async def _produce(system: ExampleSystem, scenario: Scenario) -> None:
    event = scenario.event
    system.front.at = event["createdAt"]
    if event["event"] == "room_started":
        await _outbound_room(system, scenario)
    elif event["event"] == "participant_joined" and event["participant"].get("kind") == "SIP":
        await _sip_call(system, scenario)
    else:
        raise AssertionError(
            f"{scenario.event_file.name}: this test can produce SIP participant_joined and "
            "room_started events; teach it this one"
        )


@pytest.mark.parametrize("rules_file", RULES_FILES, ids=[f.name for f in RULES_FILES])
async def test_example_rules_make_working_calls(system: ExampleSystem, rules_file: Path) -> None:
    service = await _serve(system, rules_file)
    try:
        for scenario in scenarios(rules_file):
            await _produce(system, scenario)
    except BaseException:
        print(service.tail(60))
        raise
    finally:
        system.front.at = None
        service.stop()
