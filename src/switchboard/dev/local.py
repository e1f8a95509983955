"""``switchboard dev``: the whole system locally, in the foreground, stopped by Ctrl-C.

The LiveKit stack, an inbound SIP trunk for the numbers the rules route, the service
(``switchboard serve``: dispatcher, console and softphone) and both shipped agents. Everything
is started by this process and stopped with it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
from pathlib import Path

from livekit import api

from switchboard.dev.howto import called_numbers, how_to_call
from switchboard.dev.session import (
    DevSession,
    bundled_agent,
    progress,
    run_session,
    switchboard_argv,
)
from switchboard.livekit import LiveKitClient
from switchboard.rules import load_rules
from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.stack import Stack
from switchboard.telemetry.jaeger import Jaeger
from switchboard.telemetry.jobs import AGENT_SERVICE_NAME

DEV_API_KEY = "devkey"
DEV_API_SECRET = "switchboard-dev-secret-0123456789abcdef"
DEV_TOKEN_SECRET = "switchboard-dev-token-secret"
SEED_RULES = Path(__file__).resolve().parents[3] / "examples" / "rules" / "seed.yaml"
WATCHDOG_VARIABLE = "SWITCHBOARD_WATCHDOG_SECONDS"
DEV_WATCHDOG_SECONDS = "2"
JAEGER_VARIABLE = "SWITCHBOARD_DEV_JAEGER"
"""``SWITCHBOARD_DEV_JAEGER=1 make dev`` also starts Jaeger and sends every call's trace there."""


def run_dev(departure_timeout: int = 20, empty_timeout: int = 300) -> None:
    """Start the stack and every component; block until SIGINT/SIGTERM; stop everything."""
    port = free_port()
    rules = SEED_RULES
    config = StackConfig(
        api_key=DEV_API_KEY,
        api_secret=DEV_API_SECRET,
        departure_timeout=departure_timeout,
        empty_timeout=empty_timeout,
        webhook_urls=[f"http://127.0.0.1:{port}/livekit/webhook"],
    )
    stack = Stack.create("dev", config)
    stack.start(progress)
    jaeger: Jaeger | None = None
    try:
        env = {
            **config.env(),
            "SWITCHBOARD_RULES": str(rules),
            "SWITCHBOARD_STORE_URL": f"sqlite+aiosqlite:///{stack.state_dir / 'switchboard.db'}",
            # The watchdog is opt-in for `serve`; the local system runs it, as production should.
            WATCHDOG_VARIABLE: os.environ.get(WATCHDOG_VARIABLE, DEV_WATCHDOG_SECONDS),
        }
        agents_env = env
        if os.environ.get(JAEGER_VARIABLE, "").lower() in ("1", "true", "yes"):
            jaeger = Jaeger(stack.state_dir / "jaeger.log").start()
            progress(f"jaeger: {jaeger.ui_url}")
            agents_env = {**env, **jaeger.otel_env(AGENT_SERVICE_NAME)}
            env = {**env, **jaeger.otel_env("switchboard")}
        numbers = called_numbers(load_rules(rules))
        asyncio.run(_create_dev_trunk(config, numbers))
        session = DevSession(
            state_dir=stack.state_dir,
            service_env=env,
            port=port,
            token_secret=DEV_TOKEN_SECRET,
            agents=[
                bundled_agent(name, stack.state_dir, agents_env)
                for name in ("qualifier", "outbound-caller")
            ],
        )

        def announce(session: DevSession) -> None:
            _apply_sip_rules(config, rules)
            _print_summary(config, session, rules, numbers, jaeger)

        run_session(session, announce)
    finally:
        if jaeger is not None:
            jaeger.stop()
        stack.stop()
        progress("stopped")


async def _create_dev_trunk(config: StackConfig, numbers: list[str]) -> None:
    """An inbound trunk answering the numbers the rules route, so a softphone can call them."""
    if not numbers:
        return
    async with LiveKitClient(config.http_url, config.api_key, config.api_secret) as client:
        await client.call(
            "CreateSIPInboundTrunk",
            client.api.sip.create_inbound_trunk(
                api.CreateSIPInboundTrunkRequest(
                    trunk=api.SIPInboundTrunkInfo(name="switchboard dev", numbers=numbers)
                )
            ),
        )


def _apply_sip_rules(config: StackConfig, rules: Path) -> None:
    """Compile the rules that can run natively into SIP dispatch rules (best effort in dev)."""
    result = subprocess.run(
        switchboard_argv("rules", "apply", "--sip", "--yes", "--rules", str(rules)),
        env={**os.environ, **config.env()},
        capture_output=True,
        text=True,
        check=False,
    )
    outcome = "applied" if result.returncode == 0 else f"not applied: {result.stderr.strip()}"
    progress(f"SIP dispatch rules from {rules.name}: {outcome}")


def _print_summary(
    config: StackConfig,
    session: DevSession,
    rules: Path,
    numbers: list[str],
    jaeger: Jaeger | None = None,
) -> None:
    for key, value in config.env().items():
        print(f"export {key}={value}", flush=True)
    lines = [
        f"# dispatcher  {session.base_url}/livekit/webhook  (rules: {rules})",
        f"# softphone   {session.login_link('/phone')}",
        f"# console     {session.login_link('/console')}",
        "#             (one-time login links: each works once, within 5 minutes)",
        *([f"# traces      {jaeger.ui_url}  (Jaeger; one trace per call)"] if jaeger else []),
        *how_to_call(numbers, config.sip_address),
        "#   (with the export lines above, switchboard call prints what the agents say)",
        "# Ctrl-C stops everything",
    ]
    print("\n".join(lines), flush=True)
