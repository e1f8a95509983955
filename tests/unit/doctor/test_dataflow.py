"""Following a dialled number back through job and room metadata to the code that sent it."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from switchboard.doctor import Severity, load_paths, run_checks
from switchboard.doctor.checks.dataflow import Verdict, trace_dials

from .conftest import FIXTURES, findings_for

TRUNK = {"sipTrunkId": "ST_in", "name": "Twilio trunk", "numbers": ["+19495550100"]}
OUTBOUND = {"sipTrunkId": "ST_out", "name": "Twilio out", "address": "x.pstn.twilio.com"}


def _project(tmp_path: Path, files: dict[str, str]) -> Path:
    (tmp_path / "trunks.json").write_text(json.dumps([TRUNK, OUTBOUND]))
    for name, source in files.items():
        (tmp_path / name).write_text(textwrap.dedent(source))
    return tmp_path


CALLER = """
    import json
    from livekit import api
    from livekit.agents import AgentServer

    server = AgentServer()

    @server.rtc_session(agent_name="caller")
    async def entrypoint(ctx):
        to = json.loads(ctx.{origin}.metadata).get("to")
        await ctx.api.sip.create_sip_participant(
            api.CreateSIPParticipantRequest(room_name=ctx.room.name, sip_call_to=to)
        )
"""


def test_job_metadata_loop_names_sender_dialler_and_trunk() -> None:
    (loop,) = [f for f in findings_for(FIXTURES / "SB201" / "metadata-bad") if f.code == "SB201"]

    assert loop.severity is Severity.ERROR
    assert loop.evidence[0].endswith(
        "qualifier.py:20: job metadata field 'phone_number' = '+1 (949) 555-0100'"
    )
    assert "outbound_caller.py:15: dials dial_info['phone_number']" in loop.evidence[1]
    assert "inbound_trunk.json:1" in loop.evidence[2]


def test_a_number_outside_the_project_is_not_a_loop() -> None:
    findings = findings_for(FIXTURES / "SB201" / "metadata-good")

    assert [f for f in findings if f.code in ("SB201", "SB202")] == []


def test_room_metadata_is_followed_to_the_agents_in_the_room_list(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "caller.py": CALLER.replace("{origin}", "room"),
            "maker.py": """
                import json
                from livekit import api

                async def make(lkapi):
                    await lkapi.room.create_room(api.CreateRoomRequest(
                        name="x",
                        metadata=json.dumps({"to": "+1 949 555 0100"}),
                        agents=[api.RoomAgentDispatch(agent_name="caller")],
                    ))
            """,
        },
    )

    (traced,) = trace_dials(load_paths([project]))

    assert [origin.verdict for origin in traced.origins] == [Verdict.INBOUND]
    assert traced.origins[0].source.endswith("maker.py:6")


def test_the_number_the_caller_dialled_is_this_projects_own(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "caller.py": CALLER.replace("{origin}", "job"),
            "qualifier.py": """
                import json
                from livekit import api

                async def hand_over(ctx, lkapi, participant):
                    back = participant.attributes["sip.trunkPhoneNumber"]
                    await lkapi.agent_dispatch.create_dispatch(api.CreateAgentDispatchRequest(
                        room=ctx.room.name, agent_name="caller",
                        metadata=json.dumps({"to": back}),
                    ))
            """,
        },
    )

    loops = [f for f in run_checks(load_paths([project])) if f.code == "SB201"]

    assert [f.severity for f in loops] == [Severity.ERROR]
    assert "sip.trunkPhoneNumber" in loops[0].evidence[0]


def test_an_untraceable_dial_on_a_shared_trunk_is_a_warning_else_info(tmp_path: Path) -> None:
    (warning,) = [f for f in findings_for(FIXTURES / "SB202" / "bad") if f.code == "SB202"]
    assert warning.severity is Severity.WARNING
    assert "caller.py:15: dials number = json.loads" in warning.evidence[0]
    assert "# switchboard: ignore[SB202]" in warning.fix

    # The seed's one dial is traced to +15105550123, outside the project: nothing to say.
    assert [f for f in findings_for(FIXTURES / "seed") if f.code == "SB202"] == []

    alone = _project(tmp_path, {})
    (info,) = [f for f in run_checks(load_paths([alone])) if f.code == "SB202"]
    assert info.severity is Severity.INFO
    assert "recommended setup" in info.message


def test_switchboards_own_dial_and_start_agent_room_are_followed(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        {
            "caller.py": """
                import json
                from livekit.agents import AgentServer
                from switchboard.handoff import dial

                server = AgentServer()

                @server.rtc_session(agent_name="caller")
                async def entrypoint(ctx):
                    info = json.loads(ctx.job.metadata)
                    await dial(ctx.api, trunk_id="ST_out", number=info["to"],
                               room_name=ctx.room.name, identity="human")
            """,
            "qualifier.py": """
                from switchboard.handoff import start_agent_room

                async def hand_over(lkapi, room):
                    await start_agent_room(lkapi, f"{room}-out", "caller", {"to": "+19495550100"})
            """,
        },
    )
    inventory = load_paths([project])

    (loop,) = [f for f in run_checks(inventory) if f.code == "SB201"]
    assert loop.evidence[0].endswith("qualifier.py:5: job metadata field 'to' = '+19495550100'")
    (path,) = inventory.room_paths
    assert (path.kind.value, path.agents) == ("CreateRoom", ["caller"])


def test_a_node_service_dispatching_the_dialler_with_metadata_is_followed(tmp_path: Path) -> None:
    files = {"caller.py": CALLER.replace("{origin}", "job")}
    project = _project(tmp_path, files)
    (tmp_path / "hook.js").write_text(
        "await client.createDispatch(room, 'caller', {\n"
        "  metadata: JSON.stringify({ to: '+1 949 555 0100', who: user.id }),\n"
        "});\n"
        "await client.createDispatch(room, 'caller', { metadata: buildMetadata(user) });\n"
    )

    (traced,) = trace_dials(load_paths([project]))

    assert [(o.verdict, o.source.rsplit("/", 1)[-1]) for o in traced.origins] == [
        (Verdict.INBOUND, "hook.js:1"),
        (Verdict.UNKNOWN, "hook.js:4"),
    ]
