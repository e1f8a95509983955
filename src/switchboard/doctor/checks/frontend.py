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
