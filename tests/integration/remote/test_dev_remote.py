"""``switchboard dev --remote`` as a user runs it, against a project it did not start."""

from __future__ import annotations

import asyncio
import ctypes
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.config import free_port
from switchboard.stack.process import group_alive, started_process_groups, stop_process_group
from tests.integration.remote.conftest import INBOUND_NUMBER, RemoteProject

HERE = Path(__file__).parent
RULES = f"""\
version: 1
rules:
  - id: remote-rooms
    when: {{event: room_started, room.metadata.flow: remote}}
    then: {{dispatch: [{{agent: remote-user-agent, metadata: "from-rules"}}]}}
  - id: remote-calls
    when:
      event: participant_joined
      participant.kind: SIP
      sip.trunkPhoneNumber: "{INBOUND_NUMBER}"
    then: {{dispatch: [remote-user-agent]}}
default: nobody
"""
READY_LINE = "# Ctrl-C stops"
SYS_TGKILL = 234
"""x86-64 Linux."""


def base_env(**livekit: str) -> dict[str, str]:
    """Only what a shell gives every command, plus the ``LIVEKIT_*`` passed in."""
    keep = ("PATH", "HOME", "LANG", "SWITCHBOARD_CACHE")
    return {**{k: os.environ[k] for k in keep if k in os.environ}, **livekit}


@dataclass
class DevRemote:
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)

    def wait_for_line(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"no {text!r} from dev --remote; stdout:\n"
            + "".join(self.lines)
            + "\nstderr:\n"
            + "".join(self.stderr)
        )

    def wait_for_stderr(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not any(text in line for line in self.stderr):
            assert time.monotonic() < deadline, f"no {text!r} on stderr:\n" + "".join(self.stderr)
            time.sleep(0.1)

    def line(self, starting: str) -> str:
        return next(line.strip() for line in self.lines if line.startswith(starting))


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _pump(stream: object, into: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        into.append(line)


@pytest.fixture
def rules_file(tmp_path: Path) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)
    return path


@pytest.fixture
def dev_remote(
    remote_project: RemoteProject, rules_file: Path, tmp_path: Path
) -> Iterator[tuple[DevRemote, Path]]:
    job_log = tmp_path / "jobs.jsonl"
    agent = f"{sys.executable} {HERE / 'user_agent.py'} {job_log} start"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "switchboard.cli",
            "dev",
            "--remote",
            "--rules",
            str(rules_file),
            "--port",
            str(remote_project.service_port),
            "--sip-address",
            remote_project.stack.config.sip_address,
            "--agent",
            agent,
        ],
        env=base_env(**remote_project.env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # As a background job of a script starts it (`make dev &`, a CI runner): such a shell
        # sets SIGINT to "ignore", and the child inherits that. Ctrl-C must still stop it.
        preexec_fn=_ignore_sigint,
    )
    started_process_groups.append(process.pid)
    dev = DevRemote(process)
    for stream, into in ((process.stdout, dev.lines), (process.stderr, dev.stderr)):
        threading.Thread(target=_pump, args=(stream, into), daemon=True).start()
    try:
        yield dev, job_log
    finally:
        if process.poll() is None:
            stop_process_group(process.pid, grace=10)


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def get(url: str) -> tuple[int, dict[str, str]]:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *_args: object, **_kwargs: object) -> None:
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(url, timeout=10) as answer:
            return answer.status, dict(answer.headers)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers)


async def test_dev_remote_serves_the_project_prints_its_setup_and_stops_everything(
    remote_project: RemoteProject, dev_remote: tuple[DevRemote, Path], rules_file: Path
) -> None:
    dev, job_log = dev_remote
    dev.wait_for_line(READY_LINE, timeout=120)
    # A dispatch made before a worker with that name registers is not offered to it later.
    dev.wait_for_stderr("agent-1-user_agent: registered with LiveKit", timeout=90)
    base = f"http://127.0.0.1:{remote_project.service_port}"
    config = remote_project.stack.config

    # What to set on the LiveKit side, read from the real server.
    assert dev.line("# 1. webhook:") == f"# 1. webhook: register {base}/livekit/webhook"
    assert "#          api_key: remote-key" in [line.rstrip() for line in dev.lines]
    assert any("signs each webhook with API key remote-key" in line for line in dev.lines)
    plan = [line.strip() for line in dev.lines if line.startswith("#      ")]
    assert "#      create switchboard:remote-calls" in plan
    assert any(
        line.startswith(f"#   dial {INBOUND_NUMBER}")
        and f"sip:{INBOUND_NUMBER}@{config.sip_address}" in line
        for line in dev.lines
    )
    assert dev.line("#   switchboard call") == (
        f"#   switchboard call {INBOUND_NUMBER} --sip-address {config.sip_address}"
    )

    # The service answers, and the console link logs in once.
    assert get(f"{base}/healthz")[0] == 200
    phone_link = dev.line("# softphone").split()[-1]
    status, headers = get(phone_link)
    assert status == 303 and headers["location"] == "/phone"
    assert "switchboard_console=" in headers["set-cookie"]
    assert get(phone_link)[0] == 401

    # A webhook the server delivers is dispatched per the rules to the user's own worker.
    room = f"remote-{time.monotonic_ns()}"
    async with api.LiveKitAPI(config.http_url, config.api_key, config.api_secret) as lkapi:
        flow = '{"flow": "remote"}'
        await lkapi.room.create_room(api.CreateRoomRequest(name=room, metadata=flow))
        deadline = time.monotonic() + 60
        jobs: list[dict[str, str]] = []
        while time.monotonic() < deadline and not jobs:
            text = job_log.read_text() if job_log.exists() else ""
            jobs = [json.loads(x) for x in text.splitlines() if json.loads(x)["room"] == room]
            await asyncio.sleep(0.2)
        assert jobs, "the user's agent got no job; stderr:\n" + "".join(dev.stderr)
        assert jobs[0]["metadata"] == "from-rules"

    # Nothing printed or logged carries a secret or a secret-bearing URL.
    state_dir = Path(dev.line("# agent").split("log ")[-1]).parent
    access_log = (state_dir / "dispatcher.log").read_text()
    assert "GET /console/login/" in access_log
    for text in ("".join(dev.lines), "".join(dev.stderr), access_log):
        assert config.api_secret not in text
        assert "secret=" not in text

    # Ctrl-C stops the service and the user's agent (and its job processes): no orphans.
    children = children_of(dev.process.pid)
    assert len(children) == 2, children  # the service, the user's agent
    dev.process.send_signal(signal.SIGINT)
    assert dev.process.wait(timeout=30) == 0, "".join(dev.stderr)
    await asyncio.sleep(0.5)
    assert [pid for pid in children if group_alive(pid)] == []


def test_missing_variables_are_named_before_anything_starts(rules_file: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", "dev", "--remote", "--rules", str(rules_file)],
        env=base_env(LIVEKIT_URL="ws://127.0.0.1:9", LIVEKIT_API_KEY="k"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: LIVEKIT_API_SECRET not set"), result.stderr


def test_wrong_secret_and_unreachable_url_are_said_plainly(
    remote_project: RemoteProject, rules_file: Path
) -> None:
    config = remote_project.stack.config
    wrong = {**config.env(), "LIVEKIT_API_SECRET": "not-the-secret-" + "x" * 20}
    unreachable = {**config.env(), "LIVEKIT_URL": f"ws://127.0.0.1:{free_port()}"}
    argv = [sys.executable, "-m", "switchboard.cli", "dev", "--remote", "--rules", str(rules_file)]
    answers = [
        subprocess.run(
            [*argv, "--port", str(free_port())],
            env=base_env(**env),
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        for env in (wrong, unreachable)
    ]
    assert [a.returncode for a in answers] == [1, 1]
    assert "401" in answers[0].stderr
    assert "check LIVEKIT_API_KEY and LIVEKIT_API_SECRET" in answers[0].stderr
    assert "cannot reach LiveKit" in answers[1].stderr
    assert "check LIVEKIT_URL" in answers[1].stderr
    for answer in answers:
        assert "started" not in answer.stderr  # nothing was started
        assert "not-the-secret" not in answer.stderr + answer.stdout


def tgkill(pid: int, tid: int, sig: int) -> None:
    """Send ``sig`` to one thread of another process (Linux ``tgkill``)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(SYS_TGKILL, pid, tid, sig) != 0:
        raise OSError(ctypes.get_errno(), f"tgkill({pid}, {tid}, {sig})")


def test_ctrl_c_is_heard_when_the_kernel_hands_it_to_a_thread_other_than_the_main_one(
    dev_remote: tuple[DevRemote, Path],
) -> None:
    """The kernel may deliver a process-directed SIGINT to any thread; CPython runs the handler
    in the main thread only when it runs bytecode. Seen once in CI: dev --remote sat out a
    Ctrl-C for 30 s, its main thread blocked in an untimed wait."""
    dev, _ = dev_remote
    dev.wait_for_line(READY_LINE, timeout=120)
    pid = dev.process.pid
    others = [int(t.name) for t in Path(f"/proc/{pid}/task").iterdir() if int(t.name) != pid]
    assert others, "dev --remote has no thread besides the main one"
    tgkill(pid, others[0], signal.SIGINT)
    assert dev.process.wait(timeout=30) == 0, "".join(dev.stderr)
