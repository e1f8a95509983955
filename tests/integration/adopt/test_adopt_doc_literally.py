"""docs/adopt.md step 9, followed literally: its ``<!-- adopt:run -->`` bash blocks run as
written, in one shell, from a fresh folder holding the adopted programs (a copy of
examples/byo) and a fresh venv with only what the doc installs.

The one line mapped is ``pip install 'livekit-switchboard[agents,service]'``: the netns has no
route to PyPI, so pip reads ``PIP_NO_INDEX``/``PIP_FIND_LINKS`` from the environment and installs
the package from ``make adopt-wheelhouse`` (the wheel of this checkout and every wheel it
needs). The stack's state lives in a ``SWITCHBOARD_CACHE`` of the test's own, which borrows
only the built LiveKit binaries. The representative's phone at ``127.0.0.1:5070`` (the doc's
outbound trunk) is sipp pressing 1; the caller is the doc's ``switchboard call``, answering the
qualifier by typing ``1``. The flow must complete: only ``qualifier`` in the caller's room,
only ``outbound-caller`` in the room it starts, the human dialed into the caller's room, and
both agents gone with the caller and the human left talking.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.install import cache_dir
from tests.integration.adopt.conftest import BYO, HUMAN_NUMBER, REPO
from tests.integration.adopt.observe import AGENT, RoomsWatch, end_calls
from tests.integration.callflow.observe import participants
from tests.support.participants import eventually
from tests.support.sipp import free_media_port, start_tone_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(720)]
"""Bounded for the shared 2-core host: at load 20-30 the venv and pip install alone took 3-4
minutes, both workers another 1-2 minutes to start (see the phase times it prints)."""

DOC = REPO / "docs" / "adopt.md"
WHEELHOUSE = REPO / "test-artifacts" / "adopt-wheelhouse"
RUN_BLOCK = re.compile(r"<!-- adopt:run -->\n```bash\n(.*?)```", re.DOTALL)
HUMAN_ADDRESS = ("127.0.0.1", 5070)  # the doc's `trunk create --outbound 127.0.0.1:5070`
SIP = api.ParticipantInfo.Kind.SIP
STACK_NAME = "byo"  # the doc's `stack up --name byo`
PRESS_AFTER_MS = 6000
"""The representative listens to the brief this long before pressing 1."""


def doc_blocks() -> list[str]:
    """The bash blocks of docs/adopt.md marked to be run, in order."""
    return RUN_BLOCK.findall(DOC.read_text())


class Shell:
    """One bash running the doc's blocks as a user types them: its output line by line, its
    stdin the keyboard. Its own process group, so everything it started in the background dies
    with it."""

    def __init__(self, script: str, cwd: Path, env: dict[str, str], transcript: Path) -> None:
        (cwd / "doc.sh").write_text("set -e\n" + script)
        self.transcript = transcript
        self.seen: list[str] = []
        self.started = time.monotonic()
        self.marks: dict[str, float] = {}
        """Seconds from the start to the first line matching each awaited pattern."""
        self._lines: queue.Queue[str | None] = queue.Queue()
        self.proc = subprocess.Popen(
            ["bash", "doc.sh"],
            cwd=cwd,
            env=env,
            text=True,
            bufsize=1,
            start_new_session=True,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        with self.transcript.open("w") as out:
            for line in self.proc.stdout:
                out.write(f"[{time.monotonic() - self.started:6.1f}s] {line}")
                out.flush()
                self._lines.put(line.rstrip("\n"))
        self._lines.put(None)

    def wait_for(self, pattern: str, timeout: float) -> re.Match[str]:
        """The first line (from here on) matching ``pattern``; fails with the output so far."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = self._lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                pytest.fail(
                    f"the doc's commands ended (exit {self.proc.wait()}) before "
                    f"{pattern!r}:\n{self.tail()}"
                )
            self.seen.append(line)
            if found := re.search(pattern, line):
                self.marks[pattern] = round(time.monotonic() - self.started, 1)
                return found
        pytest.fail(f"no {pattern!r} within {timeout:.0f} s:\n{self.tail()}")

    def type(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text)
        self.proc.stdin.flush()

    def tail(self, lines: int = 60) -> str:
        return "\n".join(self.seen[-lines:])

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)


def user_env(cache: Path) -> dict[str, str]:
    """A user's shell: no dev venv on PATH, no LIVEKIT_* yet, no provider keys; pip offline
    (the wheelhouse) and quiet."""
    netns = ("SWITCHBOARD_NODE_IP", "SWITCHBOARD_EXTRA_NODE_IPS", "SWITCHBOARD_NETNS_NAME")
    return {
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "SWITCHBOARD_CACHE": str(cache),
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(WHEELHOUSE),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_QUIET": "1",
        "PIP_NO_COMPILE": "1",  # no .pyc up front: Python compiles what it imports
        **{key: os.environ[key] for key in netns if key in os.environ},
    }


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    """A fresh folder with the user's programs at examples/byo (the doc starts with a cd)."""
    if not list(WHEELHOUSE.glob("livekit_switchboard-*.whl")):
        pytest.fail(f"no wheel in {WHEELHOUSE}: run `make adopt-wheelhouse` (outside the netns)")
    skip = shutil.ignore_patterns("before", "__pycache__", ".venv", "*.log")
    shutil.copytree(BYO, tmp_path / "examples" / "byo", ignore=skip)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "bin").symlink_to(cache_dir() / "bin")  # the built binaries, nothing else
    yield tmp_path


def stack_settings(folder: Path, env: dict[str, str]) -> dict[str, str]:
    """LIVEKIT_* of the doc's stack, as `switchboard stack status` prints them."""
    status = subprocess.run(
        [folder / "examples/byo/.venv/bin/switchboard", "stack", "status", "--name", STACK_NAME],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return dict(re.findall(r"^export (\w+)=(.*)$", status.stdout, re.MULTILINE))


def stack_down(folder: Path, env: dict[str, str]) -> None:
    switchboard = folder / "examples/byo/.venv/bin/switchboard"
    if switchboard.exists():
        subprocess.run(
            [switchboard, "stack", "down", "--name", STACK_NAME],
            env=env,
            capture_output=True,
            timeout=60,
            check=False,
        )


async def test_docs_adopt_step_9_as_written_ends_in_a_warm_transfer(folder: Path) -> None:
    blocks = doc_blocks()
    assert len(blocks) == 2, f"docs/adopt.md should mark the setup and the call: {blocks}"
    env = user_env(folder / "cache")
    human = start_tone_uas(
        folder,
        HUMAN_ADDRESS[0],
        port=HUMAN_ADDRESS[1],
        tone_hz=1000.0,
        hold_ms=60000,
        press="1",
        press_after_ms=PRESS_AFTER_MS,
        media_port=free_media_port(HUMAN_ADDRESS[0]),
    )
    shell = Shell("\n".join(blocks), folder, env, folder / "transcript.txt")
    lkapi: api.LiveKitAPI | None = None
    watch: RoomsWatch | None = None
    try:
        caller = shell.wait_for(r"^calling sip:\S+ from (\+\d+)", timeout=480).group(1)
        room = shell.wait_for(r"^in room (\S+)", timeout=30).group(1)
        settings = stack_settings(folder, env)
        lkapi = api.LiveKitAPI(
            settings["LIVEKIT_URL"], settings["LIVEKIT_API_KEY"], settings["LIVEKIT_API_SECRET"]
        )
        watch = RoomsWatch(lkapi)
        shell.wait_for(r"Press 1", timeout=90)
        shell.type("1\n")  # the doc: type 1 and Enter when the qualifier asks

        async def human_active() -> bool:
            return any(
                p.attributes.get("sip.phoneNumber") == HUMAN_NUMBER
                and p.attributes.get("sip.callStatus") == "active"
                for p in await participants(lkapi, room)
            )

        async def no_agent_left() -> bool:
            return not any(p.kind == AGENT for p in await participants(lkapi, room))

        await eventually(human_active, timeout=60)
        await eventually(no_agent_left, timeout=PRESS_AFTER_MS / 1000 + 30)
        phones = [p for p in await participants(lkapi, room) if p.kind == SIP]
        assert sorted(p.attributes.get("sip.phoneNumber", "") for p in phones) == sorted(
            [caller, HUMAN_NUMBER]
        ), [p.identity for p in phones]  # (switchboard call's transcript listener is hidden)
        assert room.startswith(f"call_{caller}_"), room  # the rule from rules.yaml made it
        [second] = watch.rooms("room_")
        assert watch.dispatches[room] == {"qualifier"}, watch.dispatches
        assert watch.dispatches[second] == {"outbound-caller"}, watch.dispatches
        assert watch.agents[second] == {"outbound-caller"}, watch.agents
        shell.type("\n")  # an empty line hangs up
        shell.wait_for(r"^call ended", timeout=20)
        assert await asyncio.to_thread(shell.proc.wait, 20) == 0, shell.tail()
        print(f"seconds from the first command: {shell.marks}")
    finally:
        if watch is not None:
            await watch.stop()
        if lkapi is not None:
            await end_calls(lkapi, sorted(watch.dispatches) if watch else [])
            await lkapi.aclose()
        shell.stop()
        stack_down(folder, env)
        human.stop()
