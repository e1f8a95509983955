"""The user's own two agents (examples/byo) on a real stack: livekit-server + livekit-sip,
sipp as the caller and as the human, the programs run as real workers by ``run_user_agent.py``.

``byo_system(before=False)`` is the adopted setup: the SIP dispatch rule made by
``switchboard rules apply --sip`` from examples/byo/rules.yaml (after the user's old rule, as
docs/adopt.md migrates it) and ``switchboard serve`` with the same rules behind the server's
webhooks. ``before=True`` is the seed's setup: his programs and his dispatch rule without
``room_config``.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from tests.support.serve import start_serve
from tests.support.workers import wait_registered

REPO = Path(__file__).resolve().parents[3]
BYO = REPO / "examples" / "byo"
BYO_RULES = BYO / "rules.yaml"
RUN_USER_AGENT = Path(__file__).with_name("run_user_agent.py")
CALLED = "+19497710000"  # examples/byo/rules.yaml sends calls to this number to `qualifier`
HUMAN_NUMBER = "+15558675309"
DEPARTURE_TIMEOUT = 4
USERS_OLD_RULE = "twilio Dispatch Rule"


@dataclass
class ByoSystem:
    stack: Stack
    human_port: int
    trunk_id: str
    workdir: Path
    apply_dry_run: str = ""
    """What `switchboard rules apply --sip` printed before --yes (the adopted setup only)."""
    processes: list[ManagedProcess] = field(default_factory=list)

    def client(self) -> api.LiveKitAPI:
        config = self.stack.config
        return api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)


@contextmanager
def byo_system(workdir: Path, *, before: bool) -> Iterator[ByoSystem]:
    serve_port = free_port()
    webhooks = [] if before else [f"http://127.0.0.1:{serve_port}/livekit/webhook"]
    stack = Stack.create(
        f"byo-{uuid.uuid4().hex[:6]}",
        StackConfig(departure_timeout=DEPARTURE_TIMEOUT, empty_timeout=60, webhook_urls=webhooks),
    )
    stack.start(lambda _m: None)
    human_port = free_port()
    system = ByoSystem(stack, human_port, "", workdir)
    try:
        system.trunk_id = asyncio.run(_trunks_and_the_users_rule(stack, human_port))
        if not before:
            system.apply_dry_run = switchboard(
                stack, "rules", "apply", "--sip", "--rules", str(BYO_RULES)
            )
            switchboard(stack, "rules", "apply", "--sip", "--yes", "--rules", str(BYO_RULES))
            asyncio.run(delete_the_users_rule(stack))
            served = start_serve(stack.config.env(), workdir, BYO_RULES, port=serve_port)
            system.processes.append(served.process)
        programs = BYO / "before" if before else BYO
        for program in ("qual_agent.py", "agent.py"):
            system.processes.append(
                start_user_agent(stack, programs / program, workdir, system.trunk_id)
            )
        yield system
    finally:
        for process in system.processes:
            process.stop()
        stack.stop()


def start_user_agent(stack: Stack, program: Path, workdir: Path, trunk_id: str) -> ManagedProcess:
    """``python PROGRAM start``, with the environment the user's deployment gives it."""
    label = f"{program.parent.name}-{program.stem}"
    process = ManagedProcess(
        name=f"agent-{label}",
        argv=[sys.executable, str(RUN_USER_AGENT), str(program), "start"],
        log_path=workdir / f"agent-{label}.log",
        env={
            **stack.config.env(),
            "SIP_OUTBOUND_TRUNK_ID": trunk_id,
            "TRANSFER_TO": HUMAN_NUMBER,
            "SWITCHBOARD_SPEECH": "offline",
            "OPENAI_API_KEY": "",
            "LIVEKIT_AGENT_NAME": "",
            "LIVEKIT_AGENT_NAME_OVERRIDE": "",
        },
    )
    process.start()
    wait_registered(process, timeout=90)
    return process


async def _trunks_and_the_users_rule(stack: Stack, human_port: int) -> str:
    """The seed's SIP setup: an inbound trunk for his number with his dispatch rule (individual
    rooms ``call_...``, no room_config), and an outbound trunk (here: to the human's sipp)."""
    config = stack.config
    lkapi = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    try:
        inbound = await lkapi.sip.create_inbound_trunk(
            api.CreateSIPInboundTrunkRequest(
                trunk=api.SIPInboundTrunkInfo(name="Twilio trunk", numbers=[CALLED])
            )
        )
        await lkapi.sip.create_dispatch_rule(
            api.CreateSIPDispatchRuleRequest(
                dispatch_rule=api.SIPDispatchRuleInfo(
                    name=USERS_OLD_RULE,
                    trunk_ids=[inbound.sip_trunk_id],
                    rule=api.SIPDispatchRule(
                        dispatch_rule_individual=api.SIPDispatchRuleIndividual(room_prefix="call")
                    ),
                )
            )
        )
        outbound = await lkapi.sip.create_outbound_trunk(
            api.CreateSIPOutboundTrunkRequest(
                trunk=api.SIPOutboundTrunkInfo(
                    name="Twilio_Trunk",
                    address=f"{config.node_ip}:{human_port}",
                    numbers=["+15550100000"],
                )
            )
        )
        return outbound.sip_trunk_id
    finally:
        await lkapi.aclose()


async def delete_the_users_rule(stack: Stack) -> None:
    """docs/adopt.md step 3: once the switchboard:* rule exists, the old one goes."""
    config = stack.config
    lkapi = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    try:
        rules = await lkapi.sip.list_dispatch_rule(api.ListSIPDispatchRuleRequest())
        for rule in rules.items:
            if rule.name == USERS_OLD_RULE:
                await lkapi.sip.delete_dispatch_rule(
                    api.DeleteSIPDispatchRuleRequest(sip_dispatch_rule_id=rule.sip_dispatch_rule_id)
                )
    finally:
        await lkapi.aclose()


def switchboard(stack: Stack, *args: str) -> str:
    """Run the CLI as the user would, against ``stack``; its stdout (it must exit 0)."""
    done = subprocess.run(
        [sys.executable, "-m", "switchboard.cli", *args],
        env={**os.environ, **stack.config.env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


LOG_TAIL_LINES = 150


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On failure, attach the tail of each agent's (and serve's) log to the report."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, ByoSystem):
            for log in sorted(value.workdir.glob("*.log")):
                tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                report.sections.append(
                    (f"{log.name} (last {LOG_TAIL_LINES} lines)", "\n".join(tail))
                )
