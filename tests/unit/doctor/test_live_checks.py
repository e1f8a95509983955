"""Checks over what --server reads (participants, dispatch jobs), and launch files (SB111)."""

from __future__ import annotations

from pathlib import Path

from switchboard.doctor import Inventory, Severity, load_paths, run_checks
from switchboard.doctor.inventory import ServerDispatch, ServerParticipant, ServerRoom

from .conftest import FIXTURES


def _room(**changes: object) -> ServerRoom:
    room = ServerRoom(
        name="web-1",
        age_seconds=30.0,
        dispatches=[ServerDispatch(agent_name="", jobs=0)],
        participants=[ServerParticipant(identity="user", kind="standard")],
        source="server: room web-1",
    )
    return room.model_copy(update=changes)


def _codes(*rooms: ServerRoom) -> list[str]:
    return [f.code for f in run_checks(Inventory(server_rooms=list(rooms)))]


def test_agent_did_not_join_needs_an_untaken_implicit_dispatch_and_a_waiting_human() -> None:
    assert _codes(_room()) == ["SB403"]
    assert _codes(_room(dispatches=[ServerDispatch(agent_name="", jobs=1)])) == []
    assert _codes(_room(age_seconds=1.0)) == []  # a worker may still be taking the job
    assert _codes(_room(participants=[])) == []
    agent = ServerParticipant(identity="agent-1", kind="agent", agent_name="qualifier")
    assert "SB403" not in _codes(_room(participants=[agent]))
    named = [ServerDispatch(agent_name="qualifier", jobs=0)]
    assert "SB403" not in _codes(_room(dispatches=named))


def test_live_duplicate_name_from_the_bundled_agent_and_another_program() -> None:
    bundled = ServerParticipant(
        identity="outbound-caller-AJ_1",
        kind="agent",
        agent_name="outbound-caller",
        switchboard_agent="outbound-caller",
    )
    theirs = ServerParticipant(identity="agent-AJ_2", kind="agent", agent_name="outbound-caller")
    rooms = [
        _room(name="a", participants=[bundled], dispatches=[], source="server: room a"),
        _room(name="b", participants=[theirs], dispatches=[], source="server: room b"),
    ]

    (duplicate,) = [f for f in run_checks(Inventory(server_rooms=rooms)) if f.code == "SB111"]

    assert duplicate.severity is Severity.ERROR
    assert duplicate.evidence == [
        "server: room a: agent outbound-caller-AJ_1 (Switchboard's bundled agent)",
        "server: room b: agent agent-AJ_2",
    ]
    replicas = [rooms[0], rooms[0].model_copy(update={"name": "c"})]
    assert "SB111" not in [f.code for f in run_checks(Inventory(server_rooms=replicas))]


def test_bundled_agents_started_from_launch_files(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  caller:\n    command: switchboard agent outbound-caller --config a.yaml\n"
    )
    (tmp_path / "run.sh").write_text("exec switchboard agent qualifier\n")

    workers = load_paths([tmp_path]).workers

    assert sorted((w.agent_name, w.source.rsplit("/", 1)[-1]) for w in workers) == [
        ("outbound-caller", "compose.yaml:3"),
        ("qualifier", "run.sh:1"),
    ]


def test_static_duplicate_names_both_programs() -> None:
    (duplicate,) = [
        f for f in run_checks(load_paths([FIXTURES / "SB111" / "bad"])) if f.code == "SB111"
    ]

    assert [line.rsplit("/", 1)[-1] for line in duplicate.evidence] == [
        "Procfile:3: switchboard agent registers 'outbound-caller'",
        "agent.py:39: WorkerOptions registers 'outbound-caller'",
    ]


def test_launch_files_honour_agent_name_and_the_config_name(tmp_path: Path) -> None:
    (tmp_path / "agents.yaml").write_text("version: 1\noutbound_caller:\n  name: sales-caller\n")
    (tmp_path / "Procfile").write_text(
        "a: switchboard agent outbound-caller --config agents.yaml\n"
        "b: switchboard agent qualifier --agent-name=front-desk --config agents.yaml\n"
        "c: switchboard agent qualifier --config missing.yaml\n"
    )

    workers = load_paths([tmp_path / "Procfile"]).workers

    assert [w.agent_name for w in workers] == ["sales-caller", "front-desk", "qualifier"]
