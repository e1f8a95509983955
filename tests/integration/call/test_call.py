"""``switchboard call`` against the real stack: a real SIP leg (baresip) into livekit-sip, the
seed rules' SIP dispatch rule, the real qualifier answering; keypad digits reach it as DTMF."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.config import StackConfig
from switchboard.stack.process import (
    ManagedProcess,
    group_alive,
    started_process_groups,
    stop_process_group,
)
from switchboard.stack.stack import Stack
from tests.integration.callflow.conftest import CALLED, SEED_RULES, agents_config, start_agent

FIRST_QUESTION = "Are you already a customer?"
SECOND_QUESTION = "Is this about sales, support, or billing?"


@dataclass
class QualifierLine:
    stack: Stack
    qualifier: ManagedProcess


@pytest.fixture(scope="module")
def qualifier_line(tmp_path_factory: pytest.TempPathFactory) -> Iterator[QualifierLine]:
    """A stack answering the seed number with the real qualifier (offline speech)."""
    workdir = tmp_path_factory.mktemp("call")
    stack = Stack.create(f"call-{uuid.uuid4().hex[:6]}", StackConfig(departure_timeout=4))
    stack.start(lambda _m: None)
    qualifier = None
    try:
        _answer_the_seed_number(stack)
        os.environ.setdefault("SWITCHBOARD_SPEECH", "offline")
        # No transfer in this test: the desk target's trunk is never dialled.
        config = agents_config(workdir, "ST_unused")
        qualifier = start_agent(stack, "qualifier", config, workdir)
        yield QualifierLine(stack, qualifier)
    finally:
        if qualifier is not None:
            qualifier.stop()
        stack.stop()


def _answer_the_seed_number(stack: Stack) -> None:
    """An inbound trunk for the seed number, and the seed rules' SIP dispatch rule, made the
    way a user makes it: ``switchboard rules apply --sip --yes``."""

    async def trunk() -> None:
        config = stack.config
        async with api.LiveKitAPI(config.http_url, config.api_key, config.api_secret) as lkapi:
            await lkapi.sip.create_inbound_trunk(
                api.CreateSIPInboundTrunkRequest(
                    trunk=api.SIPInboundTrunkInfo(name="seed inbound", numbers=[CALLED])
                )
            )

    asyncio.run(trunk())
    applied = subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "rules",
            "apply",
            "--sip",
            "--yes",
            "--rules",
            str(SEED_RULES),
        ],
        env={**os.environ, **stack.config.env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr


@dataclass
class Terminal:
    """``switchboard call`` with a pipe for a keyboard."""

    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def type(self, text: str) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(text + "\n")
        self.process.stdin.flush()

    def wait_for(self, text: str, timeout: float, after: int = 0) -> int:
        """The index of the first line from ``after`` on that contains ``text``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index, line in enumerate(self.lines[after:], start=after):
                if text in line:
                    return index
            time.sleep(0.1)
        seen = "".join(self.lines)
        raise AssertionError(f"no {text!r} within {timeout}s; the terminal:\n{seen}")


def _pump(terminal: Terminal) -> None:
    assert terminal.process.stdout is not None
    for line in terminal.process.stdout:
        terminal.lines.append(line)


def baresip_pids(parent: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[-1].split()
        if "(baresip)" in text and int(fields[1]) == parent:
            found.append(int(stat.parent.name))
    return found


def test_call_reaches_the_qualifier_over_sip_and_keypad_digits_answer_it(
    qualifier_line: QualifierLine,
) -> None:
    config = qualifier_line.stack.config
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "call",
            CALLED,
            "--sip-address",
            config.sip_address,
            "--from",
            "+15550123456",
        ],
        env={**keep, **config.env()},
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    started_process_groups.append(process.pid)
    terminal = Terminal(process)
    threading.Thread(target=_pump, args=(terminal,), daemon=True).start()
    try:
        terminal.wait_for("connected", timeout=60)
        terminal.wait_for("in room call_", timeout=30)
        asked = terminal.wait_for(f"qualifier: {FIRST_QUESTION}", timeout=60)
        phones = baresip_pids(process.pid)
        assert len(phones) == 1

        terminal.type("1")  # "press 1 for yes"
        pressed = terminal.wait_for("pressed 1", timeout=10, after=asked)
        terminal.wait_for(f"qualifier: {SECOND_QUESTION}", timeout=30, after=pressed)

        terminal.type("")  # an empty line hangs up
        terminal.wait_for("call ended", timeout=15)
        assert process.wait(timeout=20) == 0, "".join(terminal.lines)
        assert not [pid for pid in phones if group_alive(pid)], "baresip outlived the call"
    finally:
        if process.poll() is None:
            stop_process_group(process.pid, grace=5)


def test_a_word_is_not_sent_and_a_wrong_host_is_said_plainly(
    qualifier_line: QualifierLine,
) -> None:
    config = qualifier_line.stack.config
    keep = {k: os.environ[k] for k in ("PATH", "HOME", "LANG") if k in os.environ}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "call",
            CALLED,
            "--sip-address",
            "no-such-host.invalid:5060",
        ],
        env={**keep, **config.env()},
        input="",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert "cannot route to the SIP host 'no-such-host.invalid'" in result.stdout + result.stderr
