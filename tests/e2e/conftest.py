"""The console under test: ``switchboard serve`` (the service with the console mounted) in its own
process; the real qualifier worker; Debian's chromium with fake media devices."""

from __future__ import annotations

import contextlib
import json
import sys
import threading
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from livekit import api
from playwright.async_api import Browser, async_playwright

from switchboard import console
from switchboard.stack.config import free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from tests.support.serve import start_serve
from tests.support.webhook_sink import WebhookSink
from tests.support.workers import wait_registered

HERE = Path(__file__).parent
SECRET = "e2e-console-secret"
QUALIFIER = "qualifier-e2e"
"""The real qualifier registers under this name (``LIVEKIT_AGENT_NAME_OVERRIDE``) so that the
probe ``qualifier`` of the integration suite, when the same session runs it, cannot take the job."""
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-gpu",
    "--autoplay-policy=no-user-gesture-required",
]
SCREENSHOTS = Path("test-artifacts/screenshots")


@dataclass
class ConsoleServer:
    base_url: str
    secret: str
    uses_service: bool
    """True when the app is ``switchboard.service.create_app`` (decisions come from its store)."""

    def login_link(self, next_path: str) -> str:
        """A one-time login link to ``next_path``, asked for with the secret like a script would."""
        request = urllib.request.Request(
            f"{self.base_url}/console/api/login-link?next={next_path}",
            headers={"Authorization": f"Bearer {self.secret}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            url: str = json.loads(answer.read())["url"]
        return url


@pytest.fixture(scope="session")
def rules_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    text = (HERE / "rules.yaml").read_text().replace("agent: qualifier", f"agent: {QUALIFIER}")
    path = tmp_path_factory.mktemp("rules") / "rules.yaml"
    path.write_text(text)
    return path


@pytest.fixture(scope="session")
def qualifier_worker(
    livekit_stack: Stack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """The real qualifier agent (switchboard.agents), offline: espeak-ng speech, text input."""
    workdir = tmp_path_factory.mktemp("qualifier")
    # --ignore-load: on a busy machine a CPU-based load above target_load means no job at all.
    args = "['--http-port', '0', '--ignore-load']"
    code = f"from switchboard.agents import run; run('qualifier', {args})"
    process = ManagedProcess(
        name="worker-qualifier-e2e",
        argv=[sys.executable, "-c", code],
        log_path=workdir / "qualifier.log",
        env={
            **livekit_stack.config.env(),
            "SWITCHBOARD_SPEECH": "offline",
            "LIVEKIT_AGENT_NAME_OVERRIDE": QUALIFIER,
        },
    )
    process.start()
    try:
        wait_registered(process, timeout=90)
        yield
    finally:
        process.stop()


def _relay_webhooks(sink: WebhookSink, url: str, stop: threading.Event) -> None:
    """Forward what livekit-server posts to the session's sink, byte for byte, to the service."""
    sent = len(sink.received)
    while not stop.wait(0.1):
        with sink._lock:
            pending = sink.received[sent:]
        for hook in pending:
            headers = {
                k: v
                for k, v in hook.headers.items()
                if k.lower() in ("authorization", "content-type")
            }
            request = urllib.request.Request(url, data=hook.body, headers=headers, method="POST")
            # The service answers 4xx/5xx for what it rejects; the tests read its store.
            with contextlib.suppress(OSError):
                urllib.request.urlopen(request, timeout=5).close()
        sent += len(pending)


@contextlib.contextmanager
def _serve(
    stack: Stack, sink: WebhookSink | None, rules: Path, store_dir: Path, trunk_id: str = ""
) -> Iterator[ConsoleServer]:
    """``switchboard serve`` (store and log in ``store_dir``); with ``sink``, livekit-server's
    webhooks relayed to it."""
    env = {**stack.config.env(), "SWITCHBOARD_TOKEN_SECRET": SECRET}
    if sink is None:
        # Without the webhooks, a second service must not run its dispatcher and reconciler
        # loops against the shared stack's rooms: "function" mode runs nothing in the background.
        env["SWITCHBOARD_MODE"] = "function"
    if trunk_id:
        env[console.OUTBOUND_TRUNK_ENV] = trunk_id
    served = start_serve(env, store_dir, rules)
    stop = threading.Event()
    relay = None
    if sink is not None:
        relay = threading.Thread(
            target=_relay_webhooks,
            args=(sink, f"{served.url}/livekit/webhook", stop),
            daemon=True,
        )
        relay.start()
    try:
        yield ConsoleServer(served.url, SECRET, uses_service=True)
    finally:
        stop.set()
        if relay is not None:
            relay.join(5)
        served.stop()


@pytest.fixture(scope="session")
def console_server(
    livekit_stack: Stack,
    webhook_sink: WebhookSink,
    rules_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ConsoleServer]:
    with _serve(livekit_stack, webhook_sink, rules_file, tmp_path_factory.mktemp("store")) as s:
        yield s


@dataclass
class DialConsole:
    """A second app whose console dials through ``trunk_id``."""

    server: ConsoleServer
    trunk_id: str
    phone_host: str
    phone_port: int
    """The trunk's address: a test starts its sipp phone here (``start_uas(..., port=)``)."""


@pytest.fixture(scope="session")
async def dial_console(
    livekit_stack: Stack, rules_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[DialConsole]:
    """The console with an outbound SIP trunk configured, pointing at a reserved phone port."""
    config = livekit_stack.config
    host, port = config.node_ip, free_port()
    async with api.LiveKitAPI(config.http_url, config.api_key, config.api_secret) as lkapi:
        trunk = await lkapi.sip.create_outbound_trunk(
            api.CreateSIPOutboundTrunkRequest(
                trunk=api.SIPOutboundTrunkInfo(
                    name="e2e-console-dial", address=f"{host}:{port}", numbers=["+15550000000"]
                )
            )
        )
        try:
            store_dir = tmp_path_factory.mktemp("dial-store")
            with _serve(livekit_stack, None, rules_file, store_dir, trunk.sip_trunk_id) as server:
                yield DialConsole(server, trunk.sip_trunk_id, host, port)
        finally:
            await lkapi.sip.delete_trunk(api.DeleteSIPTrunkRequest(sip_trunk_id=trunk.sip_trunk_id))


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        await chromium.close()


def snapshot_rooms(text: str) -> dict[str, Any]:
    """``/console/api/state`` as ``{room name: room}``."""
    return {room["name"]: room for room in json.loads(text)["rooms"]}
