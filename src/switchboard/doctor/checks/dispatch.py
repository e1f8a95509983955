"""Automatic dispatch: which rooms get the unnamed ("default") agent, and which get none.

LiveKit decides once, when it creates a room: a room whose agent list is empty gets one implicit
dispatch with `agent_name=""`, which goes to an unnamed worker. CreateDispatch and
CreateSIPParticipant into a room that does not exist yet create it with no agent list.
"""

from __future__ import annotations

from switchboard.doctor.findings import CheckCode, Finding, Severity
from switchboard.doctor.inventory import DispatchRule, Inventory, RoomPath, RoomPathKind

DEFAULT_AGENT_LEAK = CheckCode("SB101", "Default agent joins rooms created without an agent list")
RANDOM_ASSIGNMENT = CheckCode("SB102", "Several unnamed agent programs: random assignment")
NO_AGENT_DISPATCHED = CheckCode("SB107", "Rooms created without an agent list get no agent")
LEAKED_DISPATCH = CheckCode("SB108", "Room holds the implicit unnamed dispatch and a named one")
UNNAMED_WORKER_REGISTERED = CheckCode("SB109", "Probe: an unnamed worker is registered")
SELF_DISPATCH_RECURSION = CheckCode(
    "SB110", "Unnamed agent creates rooms it then joins itself: recursion"
)

_NAME_IT = (
    'Give every worker an agent_name (`WorkerOptions(..., agent_name="qualifier")` or '
    '`@server.rtc_session(agent_name="qualifier")`) and dispatch it explicitly'
)
_EMPTY_LIST_NOTE = "An empty `agents: []` does not help: LiveKit treats it as absent."


def unnamed_worker_evidence(inventory: Inventory) -> list[str]:
    """Evidence lines showing that an unnamed worker exists (source code or the probe)."""
    lines = [
        f"{worker.source}: {worker.form}(...) without agent_name, an unnamed worker"
        for worker in inventory.unnamed_workers
    ]
    if inventory.probe:
        lines.extend(
            f"{inventory.probe.source}: agent {agent.identity} joined probe room "
            f"{inventory.probe.room}, created without an agent list"
            for agent in inventory.probe.agents
        )
    return lines


def all_workers_named(inventory: Inventory) -> bool:
    """True when the known workers are all named, so rooms without an agent list stay empty."""
    if inventory.probe is not None:
        return not inventory.probe.agents
    return (
        bool(inventory.workers)
        and all(worker.agent_name or worker.dynamic_name for worker in inventory.workers)
        and not inventory.env_agent_names
    )


def rules_without_agents(inventory: Inventory) -> list[DispatchRule]:
    """Dispatch rules whose calls create rooms with no agent list (and no preset)."""
    return [rule for rule in inventory.dispatch_rules if not rule.agents and not rule.room_preset]


def check_default_agent_leak(inventory: Inventory) -> list[Finding]:
    """SB101: an unnamed worker plus any path that creates rooms without an agent list."""
    unnamed = unnamed_worker_evidence(inventory)
    if not unnamed:
        return []
    env_note = (
        " (unless LIVEKIT_AGENT_NAME names it at run time)" if inventory.env_agent_names else ""
    )
    findings = [
        _leak_from_path(path, unnamed, env_note)
        for path in inventory.room_paths
        if path.may_create_room and not path.has_agent_list
    ]
    for rule in rules_without_agents(inventory):
        findings.append(
            DEFAULT_AGENT_LEAK.finding(
                Severity.WARNING,
                f"Every inbound call matching {rule.label} creates a room with no agent list, "
                f"so an unnamed worker{env_note} is dispatched by default. It works only while "
                "exactly one unnamed program is connected, and that program also joins every "
                "other room created without an agent list.",
                [f"{rule.source}: {rule.label} has no room_config.agents", *unnamed],
                f"{_NAME_IT}: set `room_config.agents` on the dispatch rule, e.g. "
                '`"roomConfig": {"agents": [{"agentName": "qualifier"}]}`. ' + _EMPTY_LIST_NOTE,
            )
        )
    return findings


def _leak_from_path(path: RoomPath, unnamed: list[str], env_note: str) -> Finding:
    room = f" into room `{path.room_expression}`" if path.room_expression else ""
    evidence = [f"{path.source}: {path.kind}{room} without an agent list", *unnamed]
    if path.kind is RoomPathKind.CREATE_DISPATCH:
        target = f"'{path.dispatched_agent}'" if path.dispatched_agent else "the named agent"
        agent = f'"{path.dispatched_agent}"' if path.dispatched_agent else "agent_name"
        room_variable = path.room_expression.split(" = ")[0] or "room"
        return DEFAULT_AGENT_LEAK.finding(
            Severity.ERROR,
            f"CreateDispatch{room} for {target}: when the room does not exist yet the server "
            "creates it with a bare CreateRoomRequest (no agents), so the unnamed worker"
            f"{env_note} is dispatched there as well, and {target} is added on top.",
            evidence,
            "Create the room with its agent list instead of dispatching into a new room: "
            f"`await lkapi.room.create_room(api.CreateRoomRequest(name={room_variable}, "
            f"agents=[api.RoomAgentDispatch(agent_name={agent}, metadata=metadata)]))`; only "
            f"listed agents are dispatched. And {_NAME_IT[0].lower()}{_NAME_IT[1:]} (e.g. "
            "from the SIP dispatch rule's room_config.agents).",
        )
    if path.kind is RoomPathKind.CREATE_SIP_PARTICIPANT:
        return DEFAULT_AGENT_LEAK.finding(
            Severity.ERROR,
            f"CreateSIPParticipant{room}: the SIP bridge joins with a token that has no room "
            "configuration, so a new room gets the automatic dispatch and the unnamed worker"
            f"{env_note} joins the call, before the callee even answers.",
            evidence,
            "Create the room first with `CreateRoomRequest(name=..., agents=[RoomAgentDispatch("
            "agent_name=...)])`, or dial into the agent's own room (`ctx.room.name`). "
            f"{_NAME_IT}.",
        )
    if path.kind is RoomPathKind.CREATE_ROOM:
        fix = "Pass `agents=[api.RoomAgentDispatch(agent_name=...)]` to CreateRoomRequest. "
        message = "CreateRoom without `agents`: the room gets the automatic dispatch at creation"
    else:
        fix = "Add the agent to the token: `.with_room_config(api.RoomConfiguration(agents=["
        fix += "api.RoomAgentDispatch(agent_name=...)]))`. "
        message = "An access token without roomConfig.agents: the first join creates the room"
    return DEFAULT_AGENT_LEAK.finding(
        Severity.WARNING,
        f"{message} and the unnamed worker{env_note} is dispatched to it, whether or not that "
        "room was meant for it.",
        evidence,
        fix + f"{_NAME_IT}. {_EMPTY_LIST_NOTE}",
    )


def check_random_assignment(inventory: Inventory) -> list[Finding]:
    """SB102: two or more unnamed agent programs compete for the same automatic jobs."""
    programs = sorted({worker.program for worker in inventory.unnamed_workers})
    if len(programs) < 2:
        return []
    return [
        RANDOM_ASSIGNMENT.finding(
            Severity.WARNING,
            f"{len(programs)} programs register unnamed workers. Each automatic job goes to one "
            "worker chosen at random (weighted by load) among all unnamed workers on the "
            "project, so which program answers a room is a coin toss.",
            [
                f"{worker.source}: {worker.form}(...) without agent_name"
                for worker in inventory.unnamed_workers
            ],
            f"{_NAME_IT}: at most one program may stay unnamed, and only if it should join "
            "every room created without an agent list.",
        )
    ]


def check_no_agent_dispatched(inventory: Inventory) -> list[Finding]:
    """SB107: all workers are named, yet some rooms are created without an agent list."""
    if not all_workers_named(inventory):
        return []
    named = ", ".join(sorted(inventory.registered_agent_names)) or "named workers only"
    basis = (
        f"{inventory.probe.source}: probe room {inventory.probe.room} got no agent"
        if inventory.probe
        else f"known workers: {named}"
    )
    findings: list[Finding] = []
    for rule in rules_without_agents(inventory):
        findings.append(
            NO_AGENT_DISPATCHED.finding(
                Severity.WARNING,
                f"Calls matching {rule.label} create rooms with no agent list, and no unnamed "
                "worker is registered, so no agent joins: the caller hears ringing until the "
                "trunk's ringing timeout (3 min by default), because LiveKit answers only once "
                "something in the room publishes audio.",
                [f"{rule.source}: {rule.label} has no room_config.agents", basis],
                'Set `room_config.agents` on the rule, e.g. `"roomConfig": {"agents": '
                '[{"agentName": "qualifier"}]}`.',
            )
        )
    for path in inventory.room_paths:
        if path.kind in (RoomPathKind.CREATE_ROOM, RoomPathKind.CREATE_SIP_PARTICIPANT) and (
            path.may_create_room and not path.has_agent_list
        ):
            findings.append(
                NO_AGENT_DISPATCHED.finding(
                    Severity.WARNING,
                    f"{path.kind} creates a room with no agent list and no unnamed worker is "
                    "registered, so no agent joins that room.",
                    [f"{path.source}: {path.kind} without an agent list", basis],
                    "Create the room with `CreateRoomRequest(agents=[RoomAgentDispatch("
                    "agent_name=...)])`.",
                )
            )
    return findings


def check_leaked_dispatch(inventory: Inventory) -> list[Finding]:
    """SB108: a live room lists the implicit `agent_name=""` dispatch next to a named one."""
    findings: list[Finding] = []
    for room in inventory.server_rooms:
        names = [dispatch.agent_name for dispatch in room.dispatches]
        named = sorted({name for name in names if name})
        if "" in names and named:
            findings.append(
                LEAKED_DISPATCH.finding(
                    Severity.ERROR,
                    f"Room {room.name} was created without an agent list (so it got the implicit "
                    f"unnamed dispatch) and then {', '.join(named)} was dispatched into it: two "
                    "agents share the room.",
                    [f"{room.source}: dispatches {', '.join(repr(name) for name in names)}"],
                    "Create such rooms with their agent list (CreateRoomRequest.agents) before "
                    f"dispatching, and {_NAME_IT[0].lower()}{_NAME_IT[1:]}.",
                )
            )
    return findings


def check_unnamed_worker_registered(inventory: Inventory) -> list[Finding]:
    """SB109: the probe saw an agent join a room created without an agent list."""
    probe = inventory.probe
    if probe is None or not probe.agents:
        return []
    agents = ", ".join(
        f"{agent.identity} (lk.agent_name={agent.agent_name!r})" for agent in probe.agents
    )
    return [
        UNNAMED_WORKER_REGISTERED.finding(
            Severity.INFO,
            f"A room created without an agent list got {agents} within "
            f"{probe.waited_seconds:g} s: an unnamed worker is registered and joins every room "
            "created without an agent list.",
            [f"{probe.source}: probe room {probe.room}"],
            "If no room should get an agent automatically, name that worker (agent_name) and "
            "dispatch explicitly.",
        )
    ]


def check_self_dispatch_recursion(inventory: Inventory) -> list[Finding]:
    """SB110: an unnamed worker's own code creates rooms without an agent list, so it re-enters."""
    findings: list[Finding] = []
    for path in inventory.room_paths:
        if not path.may_create_room or path.has_agent_list or path.kind is RoomPathKind.TOKEN:
            continue
        program = path.source.rsplit(":", 1)[0]
        unnamed = [worker for worker in inventory.workers_of(program) if worker.unnamed]
        if not unnamed:
            continue
        worker = unnamed[0]
        room = f" `{path.room_expression}`" if path.room_expression else ""
        findings.append(
            SELF_DISPATCH_RECURSION.finding(
                Severity.ERROR,
                f"This unnamed worker runs {path.kind} into a new room{room}, which the server "
                "creates without an agent list, so the same unnamed worker is dispatched into it, "
                "runs this entrypoint again and creates yet another room: one room per job, "
                "without end (and one call per room when the rooms' agents dial out).",
                [
                    f"{path.source}: {path.kind}{room} without an agent list",
                    f"{worker.source}: {worker.form}(...) without agent_name, in the same program",
                ],
                "Create the new room with its agent list: `await lkapi.room.create_room("
                "api.CreateRoomRequest(name=..., agents=[api.RoomAgentDispatch(agent_name="
                '"outbound-caller", metadata=metadata)]))` (then only that agent joins it), '
                f"and {_NAME_IT[0].lower()}{_NAME_IT[1:]}.",
            )
        )
    return findings
