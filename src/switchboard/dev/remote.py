"""``switchboard dev --remote``: the service and console against an existing LiveKit project.

No stack is started: LiveKit Cloud or a self-hosted server is reached through ``LIVEKIT_URL``,
``LIVEKIT_API_KEY`` and ``LIVEKIT_API_SECRET``, checked once (ListRooms) before anything runs.
The user's own agent commands run beside the service with the same ``LIVEKIT_*``. What must be
set on the LiveKit side (the webhook, its signing key, the SIP dispatch rules) is read from the
server and printed, never changed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from switchboard.dev.howto import how_to_call, inbound_numbers
from switchboard.dev.session import DevSession, agent_argv, progress, run_session, user_agent
from switchboard.livekit import LiveKitClient, list_sip_dispatch_rules
from switchboard.rules import SipDispatchRule, compile_native, diff, load_rules
from switchboard.settings import Settings, load_settings
from switchboard.stack.install import cache_dir

DEFAULT_PORT = 8787


@dataclass(frozen=True)
class RemoteProject:
    """What the server said when asked once at start."""

    sip_plan: str
    numbers: list[str]


def run_remote(
    *,
    rules: Path | None,
    agent_commands: Sequence[str],
    port: int = DEFAULT_PORT,
    public_url: str = "",
    sip_address: str = "",
) -> None:
    """Check the env and the server, start the service and ``agent_commands``, print the
    LiveKit-side setup, block until SIGINT/SIGTERM, stop what was started.

    Raises ``SwitchboardError`` (``ConfigError``, ``LiveKitError``) before starting anything.
    """
    settings = load_settings(rules=rules)
    settings.require_livekit()
    rules_path = settings.require_rules()
    compiled = load_rules(rules_path)
    for command in agent_commands:
        agent_argv(command)
    progress(f"checking {settings.livekit_url} (ListRooms)")
    project = asyncio.run(_inspect(settings, compile_native(compiled).sip_rules))

    state_dir = cache_dir() / f"dev-remote-{port}"
    if state_dir.exists():
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True)
    livekit_env = {
        "LIVEKIT_URL": settings.livekit_url,
        "LIVEKIT_API_KEY": settings.livekit_api_key,
        "LIVEKIT_API_SECRET": settings.livekit_api_secret.get_secret_value(),
    }
    given_secret = settings.token_secret.get_secret_value() if settings.token_secret else ""
    session = DevSession(
        state_dir=state_dir,
        service_env={
            **livekit_env,
            "SWITCHBOARD_RULES": str(rules_path.resolve()),
            "SWITCHBOARD_STORE_URL": os.environ.get("SWITCHBOARD_STORE_URL")
            or f"sqlite+aiosqlite:///{state_dir / 'switchboard.db'}",
        },
        port=port,
        # Without one, a random secret for this run: the console is reached by login links.
        token_secret=given_secret or secrets.token_urlsafe(24),
        agents=[
            user_agent(index, command, state_dir, livekit_env)
            for index, command in enumerate(agent_commands, start=1)
        ],
    )

    def announce(session: DevSession) -> None:
        lines = livekit_side_lines(
            settings, session.base_url, rules_path, project, public_url, sip_address
        )
        print("\n".join([*lines, *session_lines(session)]), flush=True)

    run_session(session, announce)
    progress("stopped (the LiveKit project is left as it was)")


async def _inspect(settings: Settings, desired: Sequence[SipDispatchRule]) -> RemoteProject:
    async with LiveKitClient(
        settings.livekit_url,
        settings.livekit_api_key,
        settings.livekit_api_secret.get_secret_value(),
    ) as client:
        await client.ping()
        plan = diff(desired, await list_sip_dispatch_rules(client))
        return RemoteProject(sip_plan=plan.summary(), numbers=await inbound_numbers(client))


def livekit_side_lines(
    settings: Settings,
    service_url: str,
    rules: Path,
    project: RemoteProject,
    public_url: str = "",
    sip_address: str = "",
) -> list[str]:
    """What to configure on the LiveKit side, and how to call in."""
    webhook = f"{(public_url or service_url).rstrip('/')}/livekit/webhook"
    key = settings.livekit_api_key
    cloud = (urlparse(settings.livekit_url).hostname or "").endswith(".livekit.cloud")
    lines = [
        f"# Switchboard against {settings.livekit_url} (no local stack; rules: {rules})",
        f"# 1. webhook: register {webhook}",
    ]
    if cloud:
        lines.append(
            "#      LiveKit Cloud: dashboard → your project → Settings → Webhooks: add it, "
            f"signed with API key {key}"
        )
    else:
        lines += [
            "#      self-hosted livekit.yaml (api_key must be one of keys:):",
            "#        webhook:",
            f"#          api_key: {key}",
            f"#          urls: [{webhook}]",
        ]
    lines.append(
        f"#    LiveKit signs each webhook with API key {key}; the service verifies it with "
        "LIVEKIT_API_SECRET, so that key's secret must be the one set here"
    )
    if not public_url:
        lines.append(
            "#    (the server must reach that address: on Cloud, expose the port, e.g. a tunnel, "
            "and pass --public-url https://…)"
        )
    lines.append(
        f"# 2. SIP dispatch rules: switchboard rules apply --sip --rules {rules} would make:"
    )
    lines += [f"#      {line}" for line in project.sip_plan.splitlines()]
    lines.append("#    (a dry run; add --yes to make the changes)")
    return lines + how_to_call(project.numbers, sip_address)


def session_lines(session: DevSession) -> list[str]:
    """The service, one-time console links, the agents' logs, how to stop."""
    lines = [
        f"# service     {session.base_url}  (healthz, /livekit/webhook)",
        f"# softphone   {session.login_link('/phone')}",
        f"# console     {session.login_link('/console')}",
        "#             (one-time login links: each works once, within 5 minutes)",
    ]
    lines += [f"# agent       {a.name}: log {a.log_path}" for a in session.agents]
    lines.append("# Ctrl-C stops the service and the agents; the LiveKit project is not changed")
    return lines
