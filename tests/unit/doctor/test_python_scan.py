"""The static scan of Python agent code."""

from __future__ import annotations

import textwrap
from pathlib import Path

from switchboard.doctor.inventory import Inventory, RoomPathKind, WorkerForm
from switchboard.doctor.loaders.python_scan import DYNAMIC_AGENT, scan_python_file


def _scan(tmp_path: Path, source: str) -> Inventory:
    path = tmp_path / "agent.py"
    path.write_text(textwrap.dedent(source))
    return scan_python_file(path)


def test_worker_forms_and_names(tmp_path: Path) -> None:
    inventory = _scan(
        tmp_path,
        """
        from livekit.agents import AgentServer, ServerOptions, WorkerOptions, cli
        server = AgentServer()

        @server.rtc_session
        async def bare(ctx): ...

        @server.rtc_session(agent_name="named")
        async def named(ctx): ...

        options = ServerOptions(entrypoint_fnc=bare, agent_name=NAME)
        cli.run_app(WorkerOptions(entrypoint_fnc=bare, agent_name=""))
        """,
    )

    workers = {(w.form, w.agent_name, w.dynamic_name, w.legacy_run_app) for w in inventory.workers}

    assert workers == {
        (WorkerForm.RTC_SESSION, "", False, False),
        (WorkerForm.RTC_SESSION, "named", False, False),
        (WorkerForm.SERVER_OPTIONS, "", True, False),
        (WorkerForm.WORKER_OPTIONS, "", False, True),
    }
    assert len(inventory.unnamed_workers) == 2


def test_run_app_through_a_variable_is_legacy(tmp_path: Path) -> None:
    inventory = _scan(
        tmp_path,
        """
        opts = WorkerOptions(entrypoint_fnc=main, agent_name="x")
        cli.run_app(opts)
        """,
    )

    assert inventory.workers[0].legacy_run_app


def test_create_dispatch_into_a_new_room_versus_the_jobs_own_room(tmp_path: Path) -> None:
    inventory = _scan(
        tmp_path,
        """
        async def new_room(lkapi):
            name = f"room_{uuid.uuid4().hex[:8]}"
            await lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(room=name, agent_name="caller"))

        async def own_room(ctx):
            request = api.CreateAgentDispatchRequest(room=ctx.room.name, agent_name="caller")
            await ctx.api.agent_dispatch.create_dispatch(request)

        async def from_a_parameter(lkapi, room_name):
            await lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(room=room_name, agent_name="caller"))

        async def created_first(lkapi, name):
            await lkapi.room.create_room(api.CreateRoomRequest(name=name, agents=[]))
            await lkapi.agent_dispatch.create_dispatch(
                api.CreateAgentDispatchRequest(room=name, agent_name=pick()))
        """,
    )

    dispatches = [p for p in inventory.room_paths if p.kind is RoomPathKind.CREATE_DISPATCH]

    assert [(p.may_create_room, p.dispatched_agent) for p in dispatches] == [
        (True, "caller"),
        (False, "caller"),
        (False, "caller"),
        (False, None),
    ]
    assert dispatches[0].room_expression.startswith("name = f'room_")
    (create_room,) = [p for p in inventory.room_paths if p.kind is RoomPathKind.CREATE_ROOM]
    assert create_room.agents == []  # agents=[] is no agent list


def test_tokens_with_and_without_agents(tmp_path: Path) -> None:
    inventory = _scan(
        tmp_path,
        """
        def plain():
            return api.AccessToken().with_grants(api.VideoGrants(room_join=True)).to_jwt()

        def with_agent():
            return (
                api.AccessToken()
                .with_room_config(api.RoomConfiguration(
                    agents=[api.RoomAgentDispatch(agent_name="qualifier")]))
                .to_jwt()
            )

        def with_computed_agents(agents):
            return api.AccessToken().with_room_config(api.RoomConfiguration(agents=agents))
        """,
    )

    tokens = [p.agents for p in inventory.room_paths if p.kind is RoomPathKind.TOKEN]

    assert tokens == [[], ["qualifier"], [DYNAMIC_AGENT]]


def test_sip_participant_dial_target_attributes_and_room(tmp_path: Path) -> None:
    inventory = _scan(
        tmp_path,
        """
        async def call(ctx):
            await ctx.api.sip.create_sip_participant(api.CreateSIPParticipantRequest(
                room_name=ctx.room.name, sip_trunk_id="ST_out", sip_call_to="+15550100",
                participant_attributes={"customer_tier": "gold"}))
        """,
    )

    (path,) = inventory.room_paths
    assert (path.kind, path.may_create_room) == (RoomPathKind.CREATE_SIP_PARTICIPANT, False)
    (target,) = inventory.dial_targets
    assert (target.number, target.trunk_id) == ("+15550100", "ST_out")
    assert [r.name for r in inventory.attribute_setters] == ["customer_tier"]


def test_env_names_webhook_events_deletions_and_timeouts(tmp_path: Path) -> None:
    inventory = _scan(
        tmp_path,
        """
        import os
        NAME = os.environ.get("LIVEKIT_AGENT_NAME_OVERRIDE")

        def on_event(event):
            if event.event == "room_created":
                ...

        async def entry(ctx):
            ctx.room.on("participant_connected", lambda p: ctx.delete_room())
            config = api.RoomConfiguration(empty_timeout=30, departure_timeout=5)
            await session.start(room=ctx.room, room_options=RoomOptions(delete_room_on_close=True))
        """,
    )

    assert [r.name for r in inventory.env_agent_names] == ["LIVEKIT_AGENT_NAME_OVERRIDE"]
    assert [r.name for r in inventory.webhook_events] == ["room_created"]
    assert {d.how for d in inventory.room_deletions} == {
        "ctx.delete_room()",
        "RoomOptions(delete_room_on_close=True)",
    }
    assert all(d.in_handoff_code for d in inventory.room_deletions)
    (timeout,) = inventory.timeouts
    assert (timeout.empty_timeout, timeout.departure_timeout) == (30, 5)


def test_deletion_outside_handoff_code_is_marked_so(tmp_path: Path) -> None:
    inventory = _scan(tmp_path, "async def end(ctx):\n    ctx.delete_room()\n")

    assert [d.in_handoff_code for d in inventory.room_deletions] == [False]


def test_syntax_error_is_a_problem(tmp_path: Path) -> None:
    inventory = _scan(tmp_path, "def broken(:\n")

    (problem,) = inventory.problems
    assert problem.source.endswith("agent.py:1")


def test_event_and_env_names_count_only_where_code_handles_them(tmp_path: Path) -> None:
    inventory = _scan(
        tmp_path,
        """
        KNOWN = frozenset({"room_created", "LIVEKIT_AGENT_NAME"})
        env = {"LIVEKIT_AGENT_NAME": "", "LIVEKIT_AGENT_NAME_OVERRIDE": ""}

        def pick(refs):
            return [r for r in refs if r.name == "room_created"]

        def handle(body):
            if body["event"] in ("agent_job_started", "room_started"):
                ...
            match body["event"]:
                case "room_created":
                    ...

        receiver.on("agent_job_ended", handle)
        name = os.getenv("LIVEKIT_AGENT_NAME")
        """,
    )

    assert [(r.name, r.source[-2:]) for r in inventory.webhook_events] == [
        ("agent_job_started", ":9"),
        ("room_created", "12"),
        ("agent_job_ended", "15"),
    ]
    assert [(r.name, r.source[-2:]) for r in inventory.env_agent_names] == [
        ("LIVEKIT_AGENT_NAME", "16")
    ]
