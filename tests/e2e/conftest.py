"""The console under test: the real service app (when present) with the console mounted, served
by uvicorn; the real qualifier worker; Debian's chromium with fake media devices."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from livekit import api
from playwright.async_api import Browser, async_playwright
from starlette.applications import Starlette

from switchboard import console
from switchboard.stack.config import free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
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


def _service_app(
    stack: Stack, rules: Path, store_url: str, trunk_id: str = "", mode: str | None = None
) -> Starlette | None:
    try:
        from switchboard.service.app import create_app
        from switchboard.settings import load_settings
    except ImportError:
        return None
    settings = load_settings(
        livekit_url=stack.config.url,
        livekit_api_key=stack.config.api_key,
        livekit_api_secret=stack.config.api_secret,
        rules=rules,
        store_url=store_url,
        token_secret=SECRET,
        mode=mode,
    )
    if not trunk_id:
        return create_app(settings)  # the service mounts the console itself
    # The console reads its outbound trunk from the environment when the app is built.
    saved = os.environ.get(console.OUTBOUND_TRUNK_ENV)
    os.environ[console.OUTBOUND_TRUNK_ENV] = trunk_id
    try:
        return create_app(settings)
    finally:
        if saved is None:
            del os.environ[console.OUTBOUND_TRUNK_ENV]
        else:
            os.environ[console.OUTBOUND_TRUNK_ENV] = saved


def _console_only_app(stack: Stack, rules: Path, store_url: str, trunk_id: str = "") -> Starlette:
    from switchboard.rules import load_rules

    compiled = load_rules(rules)
    deps = console.ConsoleDeps(
        livekit_url=stack.config.url,
        api_url=stack.config.http_url,
        api_key=stack.config.api_key,
        api_secret=stack.config.api_secret,
        token_secret=SECRET,
        store=store_url,
        sip_outbound_trunk_id=trunk_id,
        make_token=console.rules_token_maker(
            stack.config.url, stack.config.api_key, stack.config.api_secret, lambda: compiled
        ),
    )
    return Starlette(routes=console.routes(deps))


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
    """The app on a free loopback port; with ``sink``, livekit-server's webhooks relayed to it."""
    store_url = f"sqlite+aiosqlite:///{store_dir / 'switchboard.db'}"
    # Without the webhooks, a second service must not run its dispatcher and reconciler loops
    # against the shared stack's rooms: "function" mode runs nothing in the background.
    app = _service_app(stack, rules, store_url, trunk_id, None if sink else "function")
    uses_service = app is not None
    if app is None:
        app = _console_only_app(stack, rules, store_url, trunk_id)
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="console-uvicorn", daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the console app did not start")
        time.sleep(0.05)
    base_url = f"http://127.0.0.1:{port}"
    stop = threading.Event()
    relay = None
    if uses_service and sink is not None:
        relay = threading.Thread(
            target=_relay_webhooks,
            args=(sink, f"{base_url}/livekit/webhook", stop),
            daemon=True,
        )
        relay.start()
    try:
        yield ConsoleServer(base_url, SECRET, uses_service)
    finally:
        stop.set()
        server.should_exit = True
        thread.join(10)
        if relay is not None:
            relay.join(5)


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
