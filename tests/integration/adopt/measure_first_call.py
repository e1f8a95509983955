"""Measure, in a fresh venv, the time from a finished ``pip install`` of the wheel to the first
call the byo agents place (docs/adopt.md, "How long it takes"). Not a test: run it by hand, as
root, from the repository root. The install needs PyPI, which the project's network namespace
cannot reach, so it is timed outside::

    make wheel   # or: pip wheel --no-deps . -w dist
    python3 -m venv /tmp/byo
    time /tmp/byo/bin/pip install 'dist/livekit_switchboard-0.2.0-py3-none-any.whl[agents,service]'
    scripts/netns-run python3 tests/integration/adopt/measure_first_call.py /tmp/byo

Steps, each timed: ``switchboard stack up``; an outbound
trunk to a sipp phone that answers; ``switchboard serve`` with examples/byo/rules.yaml;
``examples/byo/qual_agent.py start`` and ``agent.py start`` (through run_user_agent.py: on a
busy host the workers' CPU load would keep livekit-server from offering them the job) until both
registered;
``CreateRoom`` with metadata ``{"flow": "outbound", ...}`` until the phone's call is active.
Everything it starts is stopped at the end (the stack with ``switchboard stack down``).
"""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
BYO = REPO / "examples" / "byo"
RUN = Path(__file__).with_name("run_user_agent.py")
NUMBER = "+15558675309"
SERVE_PORT = 8787
PHONE_PORT = 5090


def main(venv: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="byo-first-call-"))
    node_ip = os.environ.get("SWITCHBOARD_NODE_IP", "127.0.0.1")
    marks: dict[str, float] = {"start": time.monotonic()}
    processes: list[subprocess.Popen[bytes]] = []
    bin_ = venv / "bin"
    try:
        down = [str(bin_ / "switchboard"), "stack", "down", "--name", "byo-first-call"]
        subprocess.run(down, check=False, capture_output=True)  # a run killed before its end
        up = subprocess.run(
            [
                str(bin_ / "switchboard"),
                "stack",
                "up",
                "--name",
                "byo-first-call",
                "--webhook",
                f"http://127.0.0.1:{SERVE_PORT}/livekit/webhook",
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        env = {**os.environ, **_exports(up.stdout)}
        marks["stack up"] = time.monotonic()
        trunk = subprocess.run(
            [str(bin_ / "python"), "-c", _CREATE_TRUNK, f"{node_ip}:{PHONE_PORT}"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        env |= {"SIP_OUTBOUND_TRUNK_ID": trunk, "TRANSFER_TO": NUMBER}

        def start(name: str, *argv: str) -> subprocess.Popen[bytes]:
            log = open(work / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
            process = subprocess.Popen(argv, env=env, stdout=log, stderr=subprocess.STDOUT)
            processes.append(process)
            return process

        start("phone", "sipp", "-sn", "uas", "-i", node_ip, "-p", str(PHONE_PORT), "-nostdin")
        start(
            "serve",
            str(bin_ / "switchboard"),
            "serve",
            "--port",
            str(SERVE_PORT),
            "--rules",
            str(BYO / "rules.yaml"),
            "--store",
            f"sqlite+aiosqlite:///{work / 'switchboard.db'}",
        )
        for program in ("qual_agent", "agent"):
            # As the tests run them: unchanged, but reporting zero load (run_user_agent.py).
            start(program, str(bin_ / "python"), str(RUN), str(BYO / f"{program}.py"), "start")
        for program in ("qual_agent", "agent"):
            _wait_for(work / f"{program}.log", "registered worker", 120)
        marks["agents registered"] = time.monotonic()
        answered = subprocess.run(
            [str(bin_ / "python"), "-c", _CALL, NUMBER],
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        marks["call answered"] = time.monotonic()
        print(answered.stdout.strip())
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:  # a worker drains its running job first
                process.kill()
                process.wait()
        subprocess.run(down, check=False, capture_output=True)
    names = list(marks)
    for before, after in itertools.pairwise(names):
        print(f"{after:>18}: {marks[after] - marks[before]:6.1f} s")
    print(f"{'total':>18}: {marks[names[-1]] - marks['start']:6.1f} s")
    shutil.rmtree(work, ignore_errors=True)


def _exports(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for word in text.replace("export ", " ").split():
        name, _, value = word.partition("=")
        if name.startswith("LIVEKIT_"):
            found[name] = value.strip("'\"")
    return found


def _wait_for(log: Path, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while text not in log.read_text(errors="replace"):
        if time.monotonic() > deadline:
            raise SystemExit(f"{log.name}: no {text!r} in {timeout}s")
        time.sleep(0.2)


_CREATE_TRUNK = """
import asyncio, sys
from livekit import api
async def main():
    async with api.LiveKitAPI() as lkapi:
        trunk = await lkapi.sip.create_outbound_trunk(api.CreateSIPOutboundTrunkRequest(
            trunk=api.SIPOutboundTrunkInfo(name="phone", address=sys.argv[1],
                                           numbers=["+15550100000"])))
        print(trunk.sip_trunk_id)
asyncio.run(main())
"""

_CALL = """
import asyncio, json, sys, time
from livekit import api
async def main():
    metadata = json.dumps({"flow": "outbound", "phone_number": sys.argv[1]})
    async with api.LiveKitAPI() as lkapi:
        started = time.monotonic()
        await lkapi.room.create_room(api.CreateRoomRequest(name="first-call", metadata=metadata))
        while True:
            request = api.ListParticipantsRequest(room="first-call")
            people = (await lkapi.room.list_participants(request)).participants
            if any(p.attributes.get("sip.callStatus") == "active" for p in people):
                print(f"room created -> call answered: {time.monotonic() - started:.1f} s")
                return
            await asyncio.sleep(0.1)
asyncio.run(main())
"""

if __name__ == "__main__":
    main(Path(sys.argv[1]))
