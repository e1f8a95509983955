"""The line-based scan of web frontends, Node services and .env files."""

from __future__ import annotations

from pathlib import Path

from switchboard.doctor.inventory import RoomPathKind
from switchboard.doctor.loaders import load_paths
from switchboard.doctor.loaders.python_scan import DYNAMIC_AGENT

from .conftest import FIXTURES


def test_token_route_with_and_without_agents() -> None:
    bad = load_paths([FIXTURES / "SB401" / "bad" / "app"])
    good = load_paths([FIXTURES / "SB401" / "good" / "app"])

    assert [(p.kind, p.agents) for p in bad.room_paths] == [(RoomPathKind.TOKEN, [])]
    assert [p.agents for p in good.room_paths] == [["qualifier"]]


def test_token_with_computed_agent_name(tmp_path: Path) -> None:
    path = tmp_path / "route.ts"
    path.write_text(
        "const at = new AccessToken(k, s);\n"
        "if (agentName) { at.roomConfig = new RoomConfiguration({ agents: [{ agentName }] }); }\n"
    )

    (token,) = load_paths([path]).room_paths

    assert token.agents == [DYNAMIC_AGENT]


def test_session_enders_in_the_starter_hook_and_its_caller() -> None:
    inventory = load_paths([FIXTURES / "SB402" / "bad"])

    lines = sorted((r.source.rsplit("/", 1)[-1], r.name) for r in inventory.session_enders)

    assert lines == [
        ("app.tsx:6", "useAgentErrors()"),
        ("useAgentErrors.tsx:13", "end() on agent failure"),
    ]


def test_webhook_events_and_create_dispatch_in_node() -> None:
    inventory = load_paths([FIXTURES / "SB301" / "bad" / "webhook.js"])

    assert [(r.name, r.source.rsplit(":", 1)[-1]) for r in inventory.webhook_events] == [
        ("room_created", "13")
    ]
    (dispatch,) = inventory.room_paths
    assert (dispatch.dispatched_agent, dispatch.may_create_room) == ("qualifier", False)


def test_env_files(tmp_path: Path) -> None:
    path = tmp_path / ".env.local"
    path.write_text("LIVEKIT_URL=ws://x\nexport LIVEKIT_AGENT_NAME=qualifier\n")

    (reference,) = load_paths([tmp_path]).env_agent_names

    assert (reference.name, reference.source) == ("LIVEKIT_AGENT_NAME", f"{path}:2")


def test_directories_skip_vendored_folders(tmp_path: Path) -> None:
    vendored = tmp_path / "node_modules" / "livekit"
    vendored.mkdir(parents=True)
    (vendored / "index.js").write_text("if (e === 'room_created') {}\n")

    assert load_paths([tmp_path]).webhook_events == []
