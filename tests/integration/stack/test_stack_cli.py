"""`switchboard stack up|status|logs|down` as a user runs them: real processes, real ports."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest

from switchboard.errors import StackError
from switchboard.stack.config import StackConfig
from switchboard.stack.process import group_alive
from switchboard.stack.stack import Stack, read_status

SB = [sys.executable, "-m", "switchboard.cli"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SB, *args], capture_output=True, text=True, timeout=120, check=False)


def _env_lines(stdout: str) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in stdout.splitlines())
    return {k: v for k, v in (p for p in pairs if len(p) == 2)}


def test_up_status_logs_down_two_stacks_side_by_side() -> None:
    names = [f"cli-{uuid.uuid4().hex[:6]}" for _ in range(2)]
    try:
        envs = []
        for name in names:
            up = run("stack", "up", "--name", name, "--no-sip")
            assert up.returncode == 0, up.stderr
            envs.append(_env_lines(up.stdout))
        urls = [env["LIVEKIT_URL"] for env in envs]
        assert len(set(urls)) == 2  # free ports: two stacks side by side
        for env in envs:
            assert env["LIVEKIT_API_KEY"] == "devkey" and env["LIVEKIT_API_SECRET"]
            http = env["LIVEKIT_URL"].replace("ws://", "http://")
            with urllib.request.urlopen(http, timeout=5) as response:
                assert response.status == 200

        status = run("stack", "status", "--name", names[0])
        assert status.returncode == 0
        assert "livekit-server   up" in status.stdout and "redis            up" in status.stdout

        logs = run("stack", "logs", "--name", names[0], "livekit-server", "-n", "5")
        assert logs.returncode == 0 and len(logs.stdout.splitlines()) == 5
    finally:
        recorded = [read_status(name) for name in names]
        for name in names:
            down = run("stack", "down", "--name", name)
            assert down.returncode == 0
            assert "stopped: " in down.stdout
    for name, state in zip(names, recorded, strict=True):
        assert state is not None
        assert run("stack", "status", "--name", name).returncode == 1
    stopped = [pid for state in recorded if state for pid in _pids(state.config, state.name)]
    assert stopped == []


def _pids(config: StackConfig, name: str) -> list[int]:
    """Process groups of the stack still alive (there must be none)."""
    from switchboard.stack.stack import stacks_root

    log_dir = stacks_root() / name
    found = []
    for proc in os.listdir("/proc"):
        if proc.isdigit():
            try:
                cmdline = Path(f"/proc/{proc}/cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if str(log_dir) in cmdline and group_alive(int(proc)):
                found.append(int(proc))
    return found


def test_a_process_that_fails_to_start_is_named_with_its_last_log_lines() -> None:
    config = StackConfig(with_sip=False)
    stack = Stack.create(f"bad-{uuid.uuid4().hex[:6]}", config)
    with socket.socket() as squatter:  # livekit-server's HTTP port is taken
        squatter.bind(("127.0.0.1", config.ports.http))
        squatter.listen()
        with pytest.raises(StackError) as caught:
            stack.start(lambda _msg: None)
    message = str(caught.value)
    assert "livekit-server exited during start-up; last log lines:" in message
    assert "address already in use" in message
    assert all(not p.running() for p in stack.processes)


def test_up_refuses_a_name_already_up() -> None:
    name = f"dup-{uuid.uuid4().hex[:6]}"
    try:
        assert run("stack", "up", "--name", name, "--no-sip").returncode == 0
        again = run("stack", "up", "--name", name, "--no-sip")
        assert again.returncode == 2
        assert "already up" in again.stderr
    finally:
        run("stack", "down", "--name", name)
