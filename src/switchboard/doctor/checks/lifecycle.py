"""Room lifecycle and webhooks: events that never fire, rooms that close or vanish too soon."""

from __future__ import annotations

from collections.abc import Iterator

from switchboard.doctor.findings import CheckCode, Finding, Severity
from switchboard.doctor.inventory import Inventory

ROOM_CREATED_WEBHOOK = CheckCode("SB301", "Webhook handler for room_created, which never fires")
AGENT_JOB_WEBHOOK = CheckCode("SB302", "Webhook handler for agent_job_*, not sent by self-hosted")
SHORT_ROOM_TIMEOUT = CheckCode("SB303", "Room timeout shorter than the call flow needs")
HANDOFF_DELETES_ROOM = CheckCode("SB304", "Hand-off code deletes the room")


def check_room_created_webhook(inventory: Inventory) -> list[Finding]:
    """SB301: LiveKit has no `room_created` webhook; the event is `room_started`."""
    references = [ref for ref in inventory.webhook_events if ref.name == "room_created"]
    if not references:
        return []
    return [
        ROOM_CREATED_WEBHOOK.finding(
            Severity.ERROR,
            "LiveKit sends no `room_created` event, so this handler never runs. The event for a "
            "new room is `room_started`, sent whenever the server creates a room, by any path.",
            [f"{reference.source}: {reference.name!r}" for reference in references],
            "Compare against 'room_started'. Better still, do not dispatch from a webhook: by "
            "the time it arrives the room already got its automatic dispatch. Put the agent in "
            "the room's agent list when it is created (dispatch rule room_config.agents, token "
            "roomConfig.agents, CreateRoomRequest.agents).",
        )
    ]


def check_agent_job_webhook(inventory: Inventory) -> list[Finding]:
    """SB302: `agent_job_started`/`agent_job_ended` are never emitted by the open-source server."""
    references = [ref for ref in inventory.webhook_events if ref.name.startswith("agent_job_")]
    if not references:
        return []
    cloud = bool(inventory.server_url and ".livekit.cloud" in inventory.server_url)
    return [
        AGENT_JOB_WEBHOOK.finding(
            Severity.INFO if cloud else Severity.WARNING,
            "agent_job_started and agent_job_ended are defined, but the open-source LiveKit "
            "server never sends them; on a self-hosted server these handlers never run"
            + (" (this server is LiveKit Cloud, which may send them)." if cloud else "."),
            [f"{reference.source}: {reference.name!r}" for reference in references],
            "Track agents with participant_joined/participant_left (agent participants have "
            "kind AGENT and the attribute lk.agent_name), or report job state from the agent.",
        )
    ]


def check_short_room_timeout(inventory: Inventory) -> list[Finding]:
    """SB303: a departure or empty timeout shorter than the configured minimum."""
    limits = inventory.limits
    findings: list[Finding] = []
    for where, empty, departure in _timeouts(inventory):
        problems: list[str] = []
        if departure and departure < limits.min_departure_timeout:
            problems.append(
                f"departure_timeout {departure} s (minimum {limits.min_departure_timeout} s): "
                "the room closes that long after the last human leaves, so a caller who "
                "reconnects, or a human about to join after a hand-off, finds it gone"
            )
        if empty and empty < limits.min_empty_timeout:
            problems.append(
                f"empty_timeout {empty} s (minimum {limits.min_empty_timeout} s): a room no human "
                "has joined yet (agents do not count) closes that long after creation, e.g. a "
                "hand-off room before its agent has started and dialled out"
            )
        if problems:
            findings.append(
                SHORT_ROOM_TIMEOUT.finding(
                    Severity.WARNING,
                    "; ".join(problems) + ". Closing a room disconnects everyone in it.",
                    [where],
                    f"Raise departure_timeout to at least {limits.min_departure_timeout} s and "
                    f"empty_timeout to at least {limits.min_empty_timeout} s, or leave them 0 "
                    "for the server defaults (20 s and 300 s). Thresholds: "
                    "--min-departure-timeout, --min-empty-timeout.",
                )
            )
    return findings


def _timeouts(inventory: Inventory) -> Iterator[tuple[str, int, int]]:
    for rule in inventory.dispatch_rules:
        if rule.room_config:
            config = rule.room_config
            yield (
                f"{rule.source}: {rule.label} room_config",
                config.empty_timeout,
                config.departure_timeout,
            )
    for room in inventory.server_rooms:
        yield f"{room.source}: room {room.name}", room.empty_timeout, room.departure_timeout
    for setting in inventory.timeouts:
        yield setting.source, setting.empty_timeout or 0, setting.departure_timeout or 0


def check_handoff_deletes_room(inventory: Inventory) -> list[Finding]:
    """SB304: deleting the room in hand-off code drops the humans the call was handed to."""
    deletions = [deletion for deletion in inventory.room_deletions if deletion.in_handoff_code]
    return [
        HANDOFF_DELETES_ROOM.finding(
            Severity.WARNING,
            f"{deletion.how} deletes the room, which disconnects every participant (caller, "
            "human agent, web user) at once, not only this agent. In code that hands the call "
            "over, the humans lose the call the moment the agent is done.",
            [f"{deletion.source}: {deletion.how}"],
            "To leave the humans talking, call `ctx.shutdown()`: the agent disconnects and the "
            "room stays while any human is in it. Set delete_room_on_close=False (the default) "
            "and delete the room only when the whole call is over.",
        )
        for deletion in deletions
    ]
