"""The whole call flow on a real stack: livekit-server + livekit-sip, the two real agents, the
seed rules compiled into a SIP dispatch rule, sipp as the caller and as the human."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from livekit import api

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from tests.support.workers import WorkerPool, start_probe_workers, wait_registered

DEPARTURE_TIMEOUT = 4
CALLED = "+19497710000"  # the seed rules send calls to this number to the qualifier
HUMAN_NUMBER = "+15558675309"
REPO = Path(__file__).resolve().parents[3]
SEED_RULES = REPO / "examples" / "rules" / "seed.yaml"
DEFAULT_AGENTS_CONFIG = REPO / "src" / "switchboard" / "agents" / "default_config.yaml"


@dataclass
class CallFlowSystem:
    stack: Stack
    human_port: int
    trunk_id: str
    unnamed: WorkerPool
    workdir: Path


def agents_config(
    workdir: Path,
    trunk_id: str,
    override: Mapping[str, Any] | None = None,
    filename: str = "agents.yaml",
) -> Path:
    """The packaged agents config, its desk target dialing the human's sipp, ``override``
    deep-merged in."""
    config = yaml.safe_load(DEFAULT_AGENTS_CONFIG.read_text())
    desk = config["transfer"]["targets"]["desk"]
    desk.update({"sip_trunk_id": trunk_id, "number": HUMAN_NUMBER, "ringing_timeout_seconds": 8})
    _merge(config, override or {})
    path = workdir / filename
    path.write_text(yaml.safe_dump(config))
    return path


def start_agent(
    stack: Stack, agent: str, config: Path, workdir: Path, extra: Sequence[str] = ()
) -> ManagedProcess:
    """``switchboard agent AGENT --config CONFIG *extra``, registered."""
    label = next((extra[i + 1] for i, a in enumerate(extra[:-1]) if a == "--agent-name"), agent)
    process = ManagedProcess(
        name=f"agent-{label}",
        argv=[
            sys.executable,
            "-m",
            "switchboard.cli",
            "agent",
            agent,
            "--config",
            str(config),
            "--http-port",
            "0",
            "--ignore-load",
            *extra,
        ],
        log_path=workdir / f"agent-{label}.log",
        env={**stack.config.env(), "LIVEKIT_AGENT_NAME": "", "LIVEKIT_AGENT_NAME_OVERRIDE": ""},
    )
    process.start()
    wait_registered(process, timeout=90)
    return process


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> None:
    """Deep-merge ``override`` into ``base``: mappings merge, anything else replaces."""
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            _merge(base[key], value)
        else:
            base[key] = value


LOG_TAIL_LINES = 150


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On a failed call-flow test, attach the tail of each agent's log to the report: a CI
    failure is then explained by what the agents did, not only by what the test saw."""
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.when != "call" or not report.failed:
        return
    for value in getattr(item, "funcargs", {}).values():
        if isinstance(value, CallFlowSystem):
            for log in sorted(value.workdir.glob("agent-*.log")):
                tail = log.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
                report.sections.append(
                    (f"{log.name} (last {LOG_TAIL_LINES} lines)", "\n".join(tail))
                )


@pytest.fixture(scope="module")
def callflow(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFlowSystem]:
    with start_callflow_system(tmp_path_factory) as system:
        yield system


@contextmanager
def start_callflow_system(
    tmp_path_factory: pytest.TempPathFactory,
    config_override: Mapping[str, Any] | None = None,
    workdir_name: str = "callflow",
    *,
    agent_args: Mapping[str, Sequence[str]] | None = None,
    rules: Path = SEED_RULES,
    called: Sequence[str] = (CALLED,),
) -> Iterator[CallFlowSystem]:
    """A whole stack with both agents and an unnamed worker; ``config_override`` is deep-merged
    into the agents config (the desk target already dials the human's sipp). Each module that
    needs its own config starts its own stack: the same agent names on one server would split
    the jobs between the two configs. ``agent_args`` adds options per agent (e.g.
    ``--agent-name``); ``rules`` become the SIP dispatch rules for the ``called`` numbers."""
    workdir = tmp_path_factory.mktemp(workdir_name)
    stack = Stack.create(
        f"callflow-{uuid.uuid4().hex[:6]}",
        StackConfig(departure_timeout=DEPARTURE_TIMEOUT, empty_timeout=60),
    )
    stack.start(lambda _m: None)
    processes: list[ManagedProcess] = []
    unnamed: WorkerPool | None = None
    try:
        human_port = free_port()
        trunk_id = _setup_sip(stack, human_port, rules, called)
        config = agents_config(workdir, trunk_id, config_override)
        for name in ("qualifier", "outbound-caller"):
            extra = (agent_args or {}).get(name, ())
            processes.append(start_agent(stack, name, config, workdir, extra))
        # An unnamed worker too: the flow must never pull it into any room.
        unnamed = start_probe_workers(stack, [""], workdir)
        yield CallFlowSystem(stack, human_port, trunk_id, unnamed, workdir)
    finally:
        if unnamed is not None:
            unnamed.stop()
        for process in processes:
            process.stop()
        stack.stop()


def _setup_sip(stack: Stack, human_port: int, rules: Path, called: Sequence[str]) -> str:
    """Inbound trunk for the ``called`` numbers, SIP dispatch rules from ``rules`` (created by
    `switchboard rules apply --sip --yes`), and an outbound trunk to the human's phone."""
    import asyncio

    async def create() -> str:
        lkapi = api.LiveKitAPI(stack.config.http_url, stack.config.api_key, stack.config.api_secret)
        try:
            await lkapi.sip.create_inbound_trunk(
                api.CreateSIPInboundTrunkRequest(
                    trunk=api.SIPInboundTrunkInfo(name="seed inbound", numbers=list(called))
                )
            )
            outbound = await lkapi.sip.create_outbound_trunk(
                api.CreateSIPOutboundTrunkRequest(
                    trunk=api.SIPOutboundTrunkInfo(
                        name="to the human",
                        address=f"{stack.config.node_ip}:{human_port}",
                        numbers=["+15550100000"],
                    )
                )
            )
            return outbound.sip_trunk_id
        finally:
            await lkapi.aclose()

    trunk_id = asyncio.run(create())
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
            str(rules),
        ],
        env={**_os_env(), **stack.config.env()},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    return trunk_id


def _os_env() -> dict[str, str]:
    import os

    return dict(os.environ)


@asynccontextmanager
async def system_api(system: CallFlowSystem) -> AsyncIterator[api.LiveKitAPI]:
    """A server API client for ``system``'s stack."""
    config = system.stack.config
    client = api.LiveKitAPI(config.http_url, config.api_key, config.api_secret)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def callflow_api(callflow: CallFlowSystem) -> AsyncIterator[api.LiveKitAPI]:
    async with system_api(callflow) as client:
        yield client
