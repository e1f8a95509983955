"""``run(agent, argv)``: start one of our agents as a worker, like livekit-agents' ``start``."""

from __future__ import annotations

import argparse
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

from livekit.agents import AgentServer

from switchboard.agents.config import (
    CONFIG_ENV_VAR,
    AgentsConfig,
    check_agent_name,
    load_config,
)
from switchboard.agents.server import WorkerSettings
from switchboard.errors import ConfigError
from switchboard.rules.admission_models import DEFAULT_HOLD_AGENT

AGENTS: dict[str, tuple[str, int]] = {
    "qualifier": ("switchboard.agents.qualifier", 8081),
    "outbound-caller": ("switchboard.agents.outbound_caller", 8082),
    "hold": ("switchboard.agents.hold_agent", 8083),
}
"""Bundled agent → (module with ``build_server``, default health-check port)."""
HELP_FLAGS = ("-h", "--help")
logger = logging.getLogger("switchboard.agents")


def overview() -> str:
    """``switchboard agent --help``: which agents there are and where their options are."""
    return (
        f"usage: switchboard agent {{{','.join(AGENTS)}}} [options]\n\n"
        "Run one of the bundled agents as a named livekit-agents worker (explicit dispatch).\n"
        "Each registers under the name in the agents config (qualifier.name,\n"
        "outbound_caller.name; defaults 'qualifier', 'outbound-caller') or --agent-name;\n"
        "the hold agent (queued callers) as 'hold', the rules' queue.hold_agent default.\n\n"
        + "\n".join(f"  switchboard agent {agent} --help" for agent in AGENTS)
        + "\n      its options (--config, --agent-name, --url, --http-port, ...)"
    )


def configured_name(agent: str, config: AgentsConfig) -> str:
    """The agent_name ``agent`` registers under when no --agent-name is given."""
    if agent == "hold":
        return DEFAULT_HOLD_AGENT
    return config.qualifier.name if agent == "qualifier" else config.outbound_caller.name


def parser(agent: str) -> argparse.ArgumentParser:
    default_port = AGENTS[agent][1]
    cli = argparse.ArgumentParser(
        prog=f"switchboard agent {agent}",
        description=f"Run the bundled {agent} agent as a named worker (explicit dispatch only).",
    )
    cli.add_argument(
        "--agent-name",
        default=None,
        help=f"agent_name to register (default: {_config_key(agent)} in the agents config, "
        f"else {agent!r}); rules and dispatches must name the same",
    )
    cli.add_argument(
        "--config",
        type=Path,
        default=os.environ.get(CONFIG_ENV_VAR) or None,
        help=f"agents YAML (default: ${CONFIG_ENV_VAR}, else the packaged default)",
    )
    cli.add_argument("--url", default=None, help="LiveKit server URL (default: $LIVEKIT_URL)")
    cli.add_argument("--api-key", default=None, help="API key (default: $LIVEKIT_API_KEY)")
    cli.add_argument("--api-secret", default=None, help="API secret (default: $LIVEKIT_API_SECRET)")
    cli.add_argument("--log-level", default=os.environ.get("LIVEKIT_LOG_LEVEL", "INFO"))
    cli.add_argument("--http-host", default="", help="health-check bind host (default: all)")
    cli.add_argument(
        "--http-port", type=int, default=default_port, help="health-check port (0 = any free one)"
    )
    cli.add_argument(
        "--executor",
        choices=("process", "thread"),
        default="process",
        help="run each job in its own process (default) or in a thread of the worker",
    )
    cli.add_argument(
        "--load-threshold",
        type=float,
        default=None,
        help="stop taking jobs above this CPU load (livekit-agents default 0.7)",
    )
    cli.add_argument(
        "--ignore-load",
        action="store_true",
        help="report zero load and take every job (tests; hosts busy with other work)",
    )
    cli.add_argument("--idle-processes", type=int, default=None, help="warm job processes")
    return cli


def run(agent: str, argv: Sequence[str] | None = None) -> None:
    """Validate the config, then run ``agent``'s worker until SIGINT/SIGTERM (drains jobs).

    Raises ``ConfigError`` (before connecting) when the YAML or the LiveKit settings are wrong.
    """
    if agent in HELP_FLAGS:
        print(overview())
        return
    agent = agent.replace("_", "-")
    if agent not in AGENTS:
        raise ConfigError(f"unknown agent {agent!r}; choose one of: {', '.join(AGENTS)}")
    args = parser(agent).parse_args(list(argv or []))
    if args.config is not None:
        path = Path(args.config).resolve()
        config = load_config(path)
        # Job processes load the config themselves; the environment is how it reaches them.
        os.environ[CONFIG_ENV_VAR] = str(path)
    else:
        config = load_config(None)
    agent_name = agent_name_for(agent, config, args.agent_name)
    url = args.url or os.environ.get("LIVEKIT_URL")
    key = args.api_key or os.environ.get("LIVEKIT_API_KEY")
    secret = args.api_secret or os.environ.get("LIVEKIT_API_SECRET")
    missing = [
        name
        for name, value in (
            ("LIVEKIT_URL", url),
            ("LIVEKIT_API_KEY", key),
            ("LIVEKIT_API_SECRET", secret),
        )
        if not value
    ]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} not set: export it (or pass --url/--api-key/--api-secret) "
            "so the worker can register with LiveKit"
        )
    assert url and key and secret
    # The job's own LiveKitAPI (ctx.api, used to dial and dispatch) reads the environment.
    os.environ.update({"LIVEKIT_URL": url, "LIVEKIT_API_KEY": key, "LIVEKIT_API_SECRET": secret})
    settings = WorkerSettings(
        http_host=args.http_host,
        http_port=args.http_port,
        executor=args.executor,
        load_threshold=args.load_threshold,
        num_idle_processes=args.idle_processes,
        ignore_load=args.ignore_load,
    )
    server = _builder(agent)(settings, agent_name)
    _run_worker(server, log_level=args.log_level, url=url, api_key=key, api_secret=secret)


def agent_name_for(agent: str, config: AgentsConfig, override: str | None) -> str:
    """--agent-name if given (checked like the config's), else the configured name."""
    if override is None:
        return configured_name(agent, config)
    try:
        check_agent_name(override)
    except ValueError as exc:
        raise ConfigError(f"--agent-name: {exc}") from None
    if agent == "qualifier" and override == config.outbound_caller.name:
        raise ConfigError(
            f"--agent-name {override!r} is outbound_caller.name in the agents config: the "
            "qualifier would dispatch its transfers to itself; choose another name"
        )
    if agent == "outbound-caller" and override != config.outbound_caller.name:
        logger.warning(
            "outbound-caller name differs from the agents config: a qualifier using this config "
            "dispatches outbound_caller.name; set it to the name the worker registers under in "
            "the config both agents use",
            extra={"registers_as": override, "outbound_caller_name": config.outbound_caller.name},
        )
    return override


def _config_key(agent: str) -> str:
    if agent == "hold":
        return "queue.hold_agent in the rules"
    return "qualifier.name" if agent == "qualifier" else "outbound_caller.name"


def _builder(agent: str) -> Callable[[WorkerSettings, str], AgentServer]:
    import importlib

    module = importlib.import_module(AGENTS[agent][0])
    build: Callable[[WorkerSettings, str], AgentServer] = module.build_server
    return build


def _run_worker(
    server: AgentServer,
    *,
    log_level: str,
    url: str | None,
    api_key: str | None,
    api_secret: str | None,
) -> None:
    # The same call livekit-agents' own `start` command makes (cli.run_app and
    # `python -m livekit.agents start` both end here): logging, signals, drain on exit.
    from livekit.agents.cli import proto
    from livekit.agents.cli.cli import _run_worker as run_worker

    run_worker(
        server,
        proto.CliArgs(log_level=log_level.upper(), url=url, api_key=api_key, api_secret=api_secret),
    )
