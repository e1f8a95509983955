"""`--probe` on the real stack: it refuses when an agent joining its room may act, and its room
never outlives it, even when the doctor is interrupted with Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

import pytest
import typer
from livekit import api
from typer.testing import CliRunner

from switchboard.doctor.cli import doctor
from switchboard.doctor.live import PROBE_ROOM_PREFIX
from switchboard.stack.stack import Stack

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "doctor"

pytestmark = pytest.mark.integration

app = typer.Typer()
app.command()(doctor)


async def _probe_rooms(lkapi: api.LiveKitAPI) -> list[str]:
    rooms = await lkapi.room.list_rooms(api.ListRoomsRequest())
    return [room.name for room in rooms.rooms if room.name.startswith(PROBE_ROOM_PREFIX)]


def _probe_rooms_now(stack: Stack) -> list[str]:
    async def read() -> list[str]:
        config = stack.config
        async with api.LiveKitAPI(config.http_url, config.api_key, config.api_secret) as lkapi:
            return await _probe_rooms(lkapi)

    return asyncio.run(read())


def test_probe_refuses_when_a_scanned_unnamed_worker_would_dispatch(
    livekit_stack: Stack,
) -> None:
    result = CliRunner().invoke(
        app, ["--probe", "--file", str(FIXTURES / "SB110" / "bad")], env=livekit_stack.config.env()
    )

    output = " ".join(result.output.split())
    assert result.exit_code == 3, output
    assert "--probe refused" in output
    assert "qual_agent.py:38: an unnamed worker joins the probe room" in output
    assert "CreateDispatch" in output and "--yes" in output
    assert _probe_rooms_now(livekit_stack) == []


def test_probe_refuses_when_it_cannot_see_the_workers(livekit_stack: Stack) -> None:
    result = CliRunner().invoke(app, ["--probe"], env=livekit_stack.config.env())

    assert result.exit_code == 3
    assert "cannot see which workers are registered" in " ".join(result.output.split())


def test_probe_runs_unasked_when_every_scanned_worker_is_named(livekit_stack: Stack) -> None:
    result = CliRunner().invoke(
        app,
        ["--probe", "--probe-wait", "1", "--json", "--file", str(FIXTURES / "SB111" / "good")],
        env=livekit_stack.config.env(),
    )

    assert result.exit_code in (0, 1, 2), result.output
    assert '"probe": "switchboard-probe-' in result.output
    assert _probe_rooms_now(livekit_stack) == []


async def test_probe_room_is_deleted_when_the_doctor_gets_ctrl_c(
    livekit_stack: Stack, lkapi: api.LiveKitAPI
) -> None:
    env = {**os.environ, **livekit_stack.config.env()}
    process = await asyncio.create_subprocess_exec(
        *[sys.executable, "-m", "switchboard.cli", "doctor", "--probe", "--yes"],
        *["--probe-wait", "60"],
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not await _probe_rooms(lkapi):
            assert time.monotonic() < deadline, "the probe room never appeared"
            assert process.returncode is None, await process.communicate()
            await asyncio.sleep(0.2)
        process.send_signal(signal.SIGINT)
        await asyncio.wait_for(process.wait(), timeout=45)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()

    assert await _probe_rooms(lkapi) == []
