"""Building the named workers, and the checks run() makes before connecting anywhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from livekit.agents import AgentServer

from switchboard.agents import outbound_caller, qualifier, run
from switchboard.agents.config import parse_config
from switchboard.agents.launcher import agent_name_for, parser
from switchboard.agents.server import WorkerSettings, build_agent_server
from switchboard.errors import ConfigError

MINIMAL_CONFIG = """\
qualifier:
  greeting: Hi
  questions:
    - {id: owner, kind: yes_no, prompt: Do you own it}
"""
LIVEKIT_ENV = ("LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET", "LIVEKIT_AGENT_NAME")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*LIVEKIT_ENV, "LIVEKIT_AGENT_NAME_OVERRIDE", "SWITCHBOARD_AGENTS_CONFIG"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("module", "name"), [(qualifier, "qualifier"), (outbound_caller, "outbound-caller")]
)
def test_each_agent_is_a_named_worker(module: object, name: str) -> None:
    server = module.build_server(WorkerSettings(executor="thread"))  # type: ignore[attr-defined]
    assert isinstance(server, AgentServer)
    assert server._agent_name == name
    assert server._entrypoint_fnc is module.entrypoint  # type: ignore[attr-defined]


def test_a_named_server_needs_a_name() -> None:
    with pytest.raises(ValueError, match="always named"):
        build_agent_server("", qualifier.entrypoint, WorkerSettings())


def test_unknown_agent() -> None:
    with pytest.raises(ConfigError, match="unknown agent 'caller'"):
        run("caller", [])


def test_bad_config_fails_before_connecting(tmp_path: Path) -> None:
    config = tmp_path / "agents.yaml"
    config.write_text("qualifier:\n  greeting: hi\n")
    with pytest.raises(ConfigError, match=r"agents\.yaml:2: qualifier\.questions: Field required"):
        run("qualifier", ["--config", str(config)])


def test_missing_livekit_settings_are_named() -> None:
    with pytest.raises(ConfigError) as info:
        run("outbound_caller", ["--url", "ws://127.0.0.1:7880"])
    assert str(info.value).startswith("LIVEKIT_API_KEY, LIVEKIT_API_SECRET not set")


def test_default_ports_differ_so_both_agents_fit_on_one_host() -> None:
    assert parser("qualifier").parse_args([]).http_port == 8081
    assert parser("outbound-caller").parse_args([]).http_port == 8082


@pytest.mark.parametrize(
    ("module", "name"), [(qualifier, "acme-qualifier"), (outbound_caller, "acme-caller")]
)
def test_a_worker_registers_under_the_name_it_is_given(module: object, name: str) -> None:
    server = module.build_server(WorkerSettings(executor="thread"), name)  # type: ignore[attr-defined]
    assert server._agent_name == name


def test_agent_name_comes_from_the_config_unless_overridden() -> None:
    config = parse_config(
        MINIMAL_CONFIG + "  name: acme-qualifier\noutbound_caller: {name: acme-caller}\n"
    )
    assert agent_name_for("qualifier", config, None) == "acme-qualifier"
    assert agent_name_for("outbound-caller", config, None) == "acme-caller"
    assert agent_name_for("qualifier", config, "other-qualifier") == "other-qualifier"


def test_bad_agent_name_option_is_refused_with_the_rule() -> None:
    config = parse_config(MINIMAL_CONFIG)
    with pytest.raises(ConfigError, match="not a valid agent name: use 1-64 letters"):
        agent_name_for("qualifier", config, "acme qualifier")


def test_qualifier_may_not_take_the_outbound_callers_name() -> None:
    config = parse_config(MINIMAL_CONFIG)
    with pytest.raises(ConfigError, match="dispatch its transfers to itself"):
        agent_name_for("qualifier", config, "outbound-caller")


def test_agent_option_is_in_each_agents_help() -> None:
    assert "--agent-name" in parser("qualifier").format_help()


def test_help_instead_of_an_agent_prints_the_overview(capsys: pytest.CaptureFixture[str]) -> None:
    run("--help")
    out = capsys.readouterr().out
    assert out.startswith("usage: switchboard agent {qualifier,outbound-caller,hold}")
    assert "--agent-name" in out


def test_switchboard_agent_help_lists_the_agents() -> None:
    from typer.testing import CliRunner

    from switchboard.cli import app

    result = CliRunner().invoke(app, ["agent", "--help"])
    assert result.exit_code == 0, result.output
    assert "usage: switchboard agent {qualifier,outbound-caller,hold}" in result.output
    assert "unknown agent" not in result.output
