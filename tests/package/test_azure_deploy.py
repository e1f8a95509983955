"""docs/azure.md's "Run it locally", followed literally in a scratch folder: a clean venv holding
only what azure/requirements.txt installs runs the Function (function_host.py stands in for
``func start``) and a real livekit-server's webhooks reach it."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from livekit import api

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.stack import Stack
from tests.package.venvs import ROOT, Venv, clean_env

pytestmark = pytest.mark.asyncio(loop_scope="module")
DOC = ROOT / "docs" / "azure.md"
HOST = Path(__file__).with_name("function_host.py")
TOKEN_SECRET = "azure-deploy-test-secret"
OUTBOUND = json.dumps(
    {"flow": "outbound", "customer_id": "C-7", "phone": "+15550100007", "sip_trunk_id": "ST_x"}
)
"""Room metadata the example rules (examples/rules/seed.yaml) send the outbound-caller to."""


def local_run_commands() -> list[str]:
    """The commands of the doc's "Run it locally" block, in order."""
    section = DOC.read_text().split("## Run it locally", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```bash\n(.*?)```", section, re.S)
    assert block, f"{DOC} has no bash block under 'Run it locally'"
    return [line for line in block.group(1).splitlines() if line.strip()]


@pytest.fixture(scope="module")
def host_port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def stack(host_port: int) -> Iterator[Stack]:
    config = StackConfig(
        webhook_urls=[f"http://127.0.0.1:{host_port}/livekit/webhook"],
        departure_timeout=4,
        empty_timeout=20,
        with_sip=False,
    )
    stack = Stack.create(f"azure-deploy-{uuid.uuid4().hex[:8]}", config)
    stack.start(lambda _message: None)
    yield stack
    stack.stop()


@pytest.fixture(scope="module")
def deployed(
    wheel: Path, stack: Stack, host_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The doc's commands run; the Function served by the doc's venv. Yields its base URL."""
    checkout = tmp_path_factory.mktemp("checkout")
    shutil.copytree(ROOT / "azure", checkout / "azure", ignore=shutil.ignore_patterns(".venv"))
    (checkout / "dist").mkdir()
    shutil.copy(wheel, checkout / "dist")
    (checkout / "examples" / "rules").mkdir(parents=True)
    shutil.copy(ROOT / "examples" / "rules" / "seed.yaml", checkout / "examples" / "rules")
    commands = local_run_commands()
    assert commands[-1] == "func start", commands
    script = "set -euo pipefail\n" + "\n".join(commands[:-1])
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=600,
        env=clean_env(Venv(checkout / "no-venv")),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    app = checkout / "azure"
    venv = Venv(app / ".venv")
    assert not venv.has("livekit.agents") and not venv.has("pytest")
    settings_file = app / "local.settings.json"
    settings = json.loads(settings_file.read_text())
    settings["Values"] |= {
        "LIVEKIT_URL": stack.config.url,
        "LIVEKIT_API_KEY": stack.config.api_key,
        "LIVEKIT_API_SECRET": stack.config.api_secret,
        "SWITCHBOARD_STORE_URL": f"sqlite+aiosqlite:///{app / 'switchboard.db'}",
        "SWITCHBOARD_TOKEN_SECRET": TOKEN_SECRET,
    }
    settings_file.write_text(json.dumps(settings))
    log = (app / "host.log").open("w+")
    host = subprocess.Popen(
        [venv.bin("python"), HOST, str(host_port)],
        cwd=app,
        env=clean_env(venv),
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 90
        while "listening" not in (app / "host.log").read_text():
            assert host.poll() is None, (app / "host.log").read_text()
            assert time.monotonic() < deadline, (app / "host.log").read_text()
            time.sleep(0.2)
        print(f"function_host: {(app / 'host.log').read_text().splitlines()[0]} s to import")
        yield f"http://127.0.0.1:{host_port}"
    finally:
        host.terminate()
        host.wait(timeout=30)
        log.close()


@pytest_asyncio.fixture(loop_scope="module")
async def lkapi(stack: Stack) -> AsyncIterator[api.LiveKitAPI]:
    client = api.LiveKitAPI(stack.config.http_url, stack.config.api_key, stack.config.api_secret)
    yield client
    await client.aclose()


async def dispatched(lkapi: api.LiveKitAPI, room: str, timeout: float) -> list[str]:
    """The room's dispatched agents once the outbound-caller is among them, or after
    ``timeout`` seconds (``""`` is the server's own dispatch of unnamed workers)."""
    deadline = time.monotonic() + timeout
    while True:
        names = sorted(d.agent_name for d in await lkapi.agent_dispatch.list_dispatch(room))
        if "outbound-caller" in names or time.monotonic() > deadline:
            return names
        await asyncio.sleep(0.2)


async def test_the_webhook_dispatches_and_records_the_decision(
    deployed: str, lkapi: api.LiveKitAPI
) -> None:
    room = f"az-{uuid.uuid4().hex[:8]}"
    await lkapi.room.create_room(api.CreateRoomRequest(name=room, metadata=OUTBOUND))
    try:
        assert await dispatched(lkapi, room, 20) == ["", "outbound-caller"]
        async with httpx.AsyncClient(base_url=deployed, timeout=10) as http:
            assert (await http.get("/healthz")).text == "ok"
            auth = {"Authorization": f"Bearer {TOKEN_SECRET}"}
            reply = await http.get("/api/decisions", params={"room": room}, headers=auth)
        assert reply.status_code == 200, reply.text
        assert [d["rule"] for d in reply.json()["decisions"]] == ["outbound-caller"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))


async def test_the_timer_repairs_a_room_whose_webhook_was_lost(
    deployed: str, lkapi: api.LiveKitAPI
) -> None:
    room = f"lost-{uuid.uuid4().hex[:8]}"  # function_host.py drops this room's webhooks
    await lkapi.room.create_room(api.CreateRoomRequest(name=room, metadata=OUTBOUND))
    try:
        assert await dispatched(lkapi, room, 3) == [""]
        async with httpx.AsyncClient(base_url=deployed, timeout=60) as http:
            assert (await http.post("/admin/functions/maintain")).status_code == 202
        assert await dispatched(lkapi, room, 20) == ["", "outbound-caller"]
    finally:
        await lkapi.room.delete_room(api.DeleteRoomRequest(room=room))
