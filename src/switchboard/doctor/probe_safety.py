"""Whether `--probe` may run without `--yes`: what would join the probe room, and what it would do.

The probe creates a room with no agent list. An unnamed worker joins it and runs its entrypoint
for real: if that entrypoint dials out or dispatches on start (the seed's agents do), the probe
places a real call. LiveKit has no API that lists registered workers, so the probe runs unasked
only when the inputs show that nothing would act on it: scanned workers, all named, no
`LIVEKIT_AGENT_NAME*` in play, no live room answered by an unnamed worker, and no Switchboard rule
that dispatches an agent to the probe room.
"""

from __future__ import annotations

from pathlib import Path

from switchboard.doctor.inventory import Inventory, RoomPathKind
from switchboard.errors import SwitchboardError
from switchboard.rules import load_rules

PROBE_ROOM_EXAMPLE = "switchboard-probe-00000000"


def probe_risks(inventory: Inventory, probe_metadata: str) -> list[str]:
    """Reasons the probe may act on the world; empty when the inputs show it is safe."""
    risks = [*_unnamed_workers(inventory), *_live_unnamed(inventory)]
    risks.extend(_dispatching_rules(inventory, probe_metadata))
    if inventory.env_agent_names and inventory.workers:
        risks.append(
            f"{inventory.env_agent_names[0].source}: LIVEKIT_AGENT_NAME* can change a worker's "
            "name at run time, so the scanned names may not be the registered ones"
        )
    if not inventory.workers and not risks:
        risks.append(
            "the doctor cannot see which workers are registered (LiveKit has no API that lists "
            "them) and no agent code was scanned: an unnamed worker would join the probe room "
            "and run its entrypoint; pass your agents with --file so the doctor can check them"
        )
    return risks


def _unnamed_workers(inventory: Inventory) -> list[str]:
    risks: list[str] = []
    for worker in inventory.unnamed_workers:
        actions = sorted(
            {path.kind.value for path in inventory.room_paths if _in(path.source, worker.program)}
            - {RoomPathKind.TOKEN.value}
        )
        if any(_in(dial.source, worker.program) for dial in inventory.dial_targets):
            actions.insert(0, "CreateSIPParticipant (a phone call)")
        does = f" and its entrypoint runs {', '.join(actions)}" if actions else ""
        risks.append(f"{worker.source}: an unnamed worker joins the probe room{does}")
    return risks


def _live_unnamed(inventory: Inventory) -> list[str]:
    for room in inventory.server_rooms:
        answered = any(
            dispatch.agent_name == "" and dispatch.jobs for dispatch in room.dispatches
        ) or any(
            participant.kind == "agent" and not participant.agent_name
            for participant in room.participants or []
        )
        if answered:
            return [
                f"{room.source}: an unnamed worker is registered right now (it took this room's "
                "automatic dispatch) and would join the probe room too"
            ]
    return []


def _dispatching_rules(inventory: Inventory, probe_metadata: str) -> list[str]:
    event = {
        "event": "room_started",
        "room": {"name": PROBE_ROOM_EXAMPLE, "metadata": probe_metadata},
    }
    risks: list[str] = []
    for rules_file in inventory.rules_files:
        path = Path(rules_file.source.rsplit(":", 1)[0])
        try:
            decision = load_rules(path).decide(event)
        except (SwitchboardError, OSError):
            continue
        if decision.dispatches:
            agents = ", ".join(dispatch.agent for dispatch in decision.dispatches)
            risks.append(
                f"{rules_file.source}: rule {decision.rule_id!r} dispatches {agents} to the "
                "probe room when `switchboard serve` runs with these rules"
            )
    return risks


def _in(source: str, program: str) -> bool:
    return source.rsplit(":", 1)[0] == program
