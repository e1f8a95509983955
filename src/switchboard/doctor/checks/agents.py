"""Worker naming: names nobody dispatches, dispatches nobody serves, names from the environment."""

from __future__ import annotations

from switchboard.doctor.findings import CheckCode, Finding, Severity
from switchboard.doctor.inventory import Inventory, Reference
from switchboard.doctor.loaders.python_scan import DYNAMIC_AGENT

NEVER_DISPATCHED = CheckCode("SB103", "Named agent is never dispatched")
NO_WORKER_FOR_DISPATCH = CheckCode("SB104", "Dispatch names an agent no worker registers")
NAME_FROM_ENVIRONMENT = CheckCode("SB105", "Agent name can come from the environment")
LEGACY_RUN_APP = CheckCode("SB106", "Deprecated cli.run_app(WorkerOptions(...))")
DUPLICATE_AGENT_NAME = CheckCode("SB111", "Two programs register the same agent_name")


def dispatched_agents(inventory: Inventory) -> list[Reference]:
    """Every agent name something dispatches (`*` when computed at run time)."""
    references: list[Reference] = []
    for path in inventory.room_paths:
        if path.dispatched_agent is None:
            references.append(Reference(name=DYNAMIC_AGENT, source=path.source))
        elif path.dispatched_agent:
            references.append(Reference(name=path.dispatched_agent, source=path.source))
        references.extend(Reference(name=name, source=path.source) for name in path.agents)
    for rule in inventory.dispatch_rules:
        references.extend(Reference(name=name, source=rule.source) for name in rule.agents)
    for rules_file in inventory.rules_files:
        references.extend(rules_file.agents)
    for room in inventory.server_rooms:
        references.extend(
            Reference(name=dispatch.agent_name, source=room.source)
            for dispatch in room.dispatches
            if dispatch.agent_name
        )
    return references


def check_never_dispatched(inventory: Inventory) -> list[Finding]:
    """SB103: a worker registers a name that no token, rule, rules file or API call dispatches."""
    if not _has_dispatch_sources(inventory):
        return []
    names = {reference.name for reference in dispatched_agents(inventory)}
    if DYNAMIC_AGENT in names:
        return []
    findings: list[Finding] = []
    for worker in inventory.workers:
        if worker.agent_name and worker.agent_name not in names:
            findings.append(
                NEVER_DISPATCHED.finding(
                    Severity.WARNING,
                    f"The worker registers as '{worker.agent_name}', which turns automatic "
                    "dispatch off for it, but none of the inputs dispatches that name, so it "
                    "never gets a job.",
                    [f"{worker.source}: agent_name={worker.agent_name!r}"],
                    f"Dispatch '{worker.agent_name}' explicitly: list it in the SIP dispatch "
                    "rule's room_config.agents, a token's roomConfig.agents, a "
                    "CreateRoomRequest.agents, a Switchboard rule, or CreateDispatch into an "
                    "existing room. If the code that dispatches it lives elsewhere, pass it "
                    "with --file.",
                )
            )
    return findings


def _has_dispatch_sources(inventory: Inventory) -> bool:
    """True when some input can dispatch agents at all; otherwise "never dispatched" is moot."""
    return bool(
        inventory.room_paths
        or inventory.dispatch_rules
        or inventory.rules_files
        or inventory.server_rooms
        or inventory.server_read
    )


def check_no_worker_for_dispatch(inventory: Inventory) -> list[Finding]:
    """SB104: something dispatches a name that no scanned worker registers."""
    workers = inventory.workers
    if not workers or any(worker.dynamic_name for worker in workers):
        return []
    if inventory.env_agent_names and inventory.unnamed_workers:
        return []
    registered = inventory.registered_agent_names
    findings: list[Finding] = []
    missing: dict[str, list[str]] = {}
    for reference in dispatched_agents(inventory):
        if reference.name != DYNAMIC_AGENT and reference.name not in registered:
            missing.setdefault(reference.name, []).append(reference.source)
    for name, sources in sorted(missing.items()):
        findings.append(
            NO_WORKER_FOR_DISPATCH.finding(
                Severity.WARNING,
                f"'{name}' is dispatched but no scanned worker registers that name. The server "
                "does not queue the job: it logs 'not dispatching agent job since no worker is "
                "available' and the room stays without that agent.",
                [f"{source}: dispatches '{name}'" for source in sources],
                f"Register a worker with agent_name='{name}' (check the spelling on both sides), "
                "or pass the file that declares it with --file.",
            )
        )
    return findings


def check_name_from_environment(inventory: Inventory) -> list[Finding]:
    """SB105: LIVEKIT_AGENT_NAME / LIVEKIT_AGENT_NAME_OVERRIDE can rename a worker at run time."""
    if not inventory.env_agent_names:
        return []
    return [
        NAME_FROM_ENVIRONMENT.finding(
            Severity.INFO,
            "livekit-agents takes the worker name from LIVEKIT_AGENT_NAME_OVERRIDE first, then "
            "the agent_name argument, then LIVEKIT_AGENT_NAME. A worker that looks unnamed in "
            "code can register with a name (and stop getting automatic jobs), and the override "
            "can rename a named one.",
            [f"{reference.source}: {reference.name}" for reference in inventory.env_agent_names],
            "Set agent_name in code and keep these variables out of the worker's environment, "
            "or make sure every environment sets the name the dispatchers use.",
        )
    ]


def check_legacy_run_app(inventory: Inventory) -> list[Finding]:
    """SB106: `cli.run_app(WorkerOptions(...))` is the legacy form."""
    return [
        LEGACY_RUN_APP.finding(
            Severity.INFO,
            "WorkerOptions is a deprecated alias of ServerOptions, converted to an AgentServer "
            "at start-up; the current form makes the agent name sit next to the entrypoint.",
            [f"{worker.source}: cli.run_app({worker.form}(...))"],
            "Use `server = AgentServer()`, decorate the entrypoint with "
            f"`@server.rtc_session(agent_name={worker.agent_name or 'your-agent'!r})` and call "
            "`cli.run_app(server)`.",
        )
        for worker in inventory.workers
        if worker.legacy_run_app
    ]


def check_duplicate_agent_name(inventory: Inventory) -> list[Finding]:
    """SB111: two programs register one agent_name, so its jobs are split between them."""
    findings: list[Finding] = []
    by_name: dict[str, dict[str, list[str]]] = {}
    for worker in inventory.workers:
        if worker.agent_name:
            by_name.setdefault(worker.agent_name, {}).setdefault(worker.program, []).append(
                f"{worker.source}: {worker.form} registers {worker.agent_name!r}"
            )
    for name, programs in sorted(by_name.items()):
        if len(programs) > 1:
            findings.append(
                DUPLICATE_AGENT_NAME.finding(
                    Severity.WARNING,
                    f"{len(programs)} different programs register agent_name={name!r}. When "
                    "they run at the same time, each job for that name goes to one worker "
                    "picked at random among all of them, so half the calls (or so) run the "
                    "other program's code, and nothing reports it.",
                    [line for lines in programs.values() for line in lines],
                    f"Give each program its own name (e.g. {name!r} and {name + '-v2'!r}) and "
                    "dispatch the one you mean, or run only one of them.",
                )
            )
    findings.extend(_live_duplicates(inventory))
    return findings


def _live_duplicates(inventory: Inventory) -> list[Finding]:
    """Agent participants with one name, some from Switchboard's bundled agents and some not."""
    bundled: dict[str, list[str]] = {}
    other: dict[str, list[str]] = {}
    for room in inventory.server_rooms:
        for participant in room.participants or []:
            if participant.kind != "agent" or not participant.agent_name:
                continue
            side = bundled if participant.switchboard_agent else other
            side.setdefault(participant.agent_name, []).append(
                f"{room.source}: agent {participant.identity}"
                + (" (Switchboard's bundled agent)" if participant.switchboard_agent else "")
            )
    return [
        DUPLICATE_AGENT_NAME.finding(
            Severity.ERROR,
            f"Live rooms hold agents named {name!r} from two programs: Switchboard's bundled "
            f"{name} (it sets the attribute switchboard.agent) and another program that does "
            "not. Both are registered, and jobs for that name are split between them at random.",
            [*bundled[name], *other[name]],
            f"Stop one of them, or rename yours (agent_name={name + '-custom'!r}) and dispatch "
            "that name.",
        )
        for name in sorted(set(bundled) & set(other))
    ]
