"""Web frontends: tokens that dispatch no agent; UIs that end the session when the agent leaves."""

from __future__ import annotations

from itertools import groupby

from switchboard.doctor.checks.dispatch import all_workers_named, unnamed_worker_evidence
from switchboard.doctor.findings import CheckCode, Finding, Severity
from switchboard.doctor.inventory import Inventory, RoomPathKind

TOKEN_WITHOUT_AGENTS = CheckCode("SB401", "Frontend token without agents")
ENDS_SESSION_ON_AGENT_LEAVE = CheckCode(
    "SB402", "Web frontend ends the session when the agent leaves"
)
AGENT_DID_NOT_JOIN = CheckCode("SB403", "Live room with automatic dispatch has no agent")

SETTLE_SECONDS = 5.0
"""A worker takes a dispatch within milliseconds; after this long, no job means nobody will."""


def check_token_without_agents(inventory: Inventory) -> list[Finding]:
    """SB401: a token without roomConfig.agents (SB101 covers it when an unnamed worker exists)."""
    if unnamed_worker_evidence(inventory):
        return []
    named = all_workers_named(inventory)
    consequence = (
        "every known worker is named, so no agent is dispatched and the frontend reports "
        "'Agent did not join the room' after its 20 s timeout"
        if named
        else "the room gets an agent only if some unnamed worker happens to be registered, "
        "and useSession.start() does not wait for an agent"
    )
    return [
        TOKEN_WITHOUT_AGENTS.finding(
            Severity.WARNING,
            f"This token creates its room without roomConfig.agents: {consequence}.",
            [f"{path.source}: {path.kind} without roomConfig.agents"],
            "Put the agent in the token. TypeScript: `at.roomConfig = new RoomConfiguration("
            "{ agents: [new RoomAgentDispatch({ agentName: 'qualifier' })] })` (the starter does "
            "this when AGENT_NAME is set). Python: `.with_room_config(api.RoomConfiguration("
            "agents=[api.RoomAgentDispatch(agent_name='qualifier')]))`.",
        )
        for path in inventory.room_paths
        if path.kind is RoomPathKind.TOKEN and path.may_create_room and not path.has_agent_list
    ]


def check_ends_session_on_agent_leave(inventory: Inventory) -> list[Finding]:
    """SB402: `useAgentErrors` / `session.end()` on agent failure also fires on a hand-off."""
    findings: list[Finding] = []
    by_file = groupby(inventory.session_enders, key=lambda ref: ref.source.rsplit(":", 1)[0])
    for path, references in by_file:
        findings.append(
            ENDS_SESSION_ON_AGENT_LEAVE.finding(
                Severity.WARNING,
                "The agent-starter's useAgentErrors ends the session (session.end() disconnects "
                "the room) whenever the agent state turns 'failed', which includes 'Agent left "
                "the room unexpectedly'. When the agent leaves on purpose after a hand-off, the "
                "web user is cut off although the humans should keep talking.",
                [f"{ref.source}: {ref.name}" for ref in references],
                f"In {path}: do not call end() when the agent leaves after a hand-off; show a "
                "notice instead, or skip useAgentErrors for calls that hand over to a human "
                "(e.g. when a participant attribute marks the hand-off as done).",
            )
        )
    return findings


def check_agent_did_not_join(inventory: Inventory) -> list[Finding]:
    """SB403: a live room got only the implicit unnamed dispatch, and no worker took it."""
    findings: list[Finding] = []
    for room in inventory.server_rooms:
        names = {dispatch.agent_name for dispatch in room.dispatches}
        implicit = [d for d in room.dispatches if d.agent_name == ""]
        participants = room.participants or []
        humans = [p for p in participants if p.kind in ("standard", "sip")]
        if names != {""} or not humans or any(p.kind == "agent" for p in participants):
            continue
        untaken = all(dispatch.jobs == 0 for dispatch in implicit)
        settled = room.age_seconds is None or room.age_seconds >= SETTLE_SECONDS
        if not (untaken and settled) and not all_workers_named(inventory):
            continue
        who = ", ".join(p.identity for p in humans)
        findings.append(
            AGENT_DID_NOT_JOIN.finding(
                Severity.ERROR,
                f"Room {room.name} was created without an agent list (its only dispatch is the "
                "implicit one for unnamed workers) and no worker took that job: every "
                f"registered worker is named. {who} waits for an agent that never comes; a "
                "LiveKit starter app or the hosted sandbox says 'Agent did not join the room' "
                "after 20 s.",
                [
                    f"{room.source}: dispatches {sorted(names)!r}, "
                    f"{sum(d.jobs or 0 for d in implicit)} job(s), participants {who}",
                ],
                "Put the agent in the token that creates the room: TypeScript `at.roomConfig = "
                "new RoomConfiguration({ agents: [new RoomAgentDispatch({ agentName: "
                "'qualifier' })] })`, Python `.with_room_config(api.RoomConfiguration(agents=["
                "api.RoomAgentDispatch(agent_name='qualifier')]))`. In the hosted sandbox, set "
                "the agent name in the sandbox's settings (agent-starter-react: `agentName` in "
                "app-config.ts) so its token carries roomConfig.agents. Or join through "
                "Switchboard's softphone, `switchboard serve` then /phone: its token comes from "
                "your rules, so the room gets the rule's agent.",
            )
        )
    return findings
