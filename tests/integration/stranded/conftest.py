"""No caller is ever stranded: the whole system with its watchdog on, and what a caller hears.

The system is the call flow's (tests/integration/callflow/conftest.py: livekit-server,
livekit-sip, the bundled qualifier and outbound-caller, an unnamed worker that must never join,
the rules compiled into SIP dispatch rules) plus ``switchboard serve`` in its own process with
``SWITCHBOARD_WATCHDOG_*`` set. The watchdog needs no webhooks: it lists the rooms itself.

``STRANDED_RULES``: the seed rules, and a number whose calls the rules send to an agent no
worker serves (a caller no agent will ever reach).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from switchboard.store import Store
from tests.integration.callflow.conftest import (
    CALLED,
    DEFAULT_AGENTS_CONFIG,
    SEED_RULES,
    CallFlowSystem,
    start_callflow_system,
)
from tests.support.rtp_capture import Chunk, rms
from tests.support.serve import start_serve

UNSERVED_CALLED = "+19497710099"
UNSERVED_AGENT = "nobody-serves-this"
WATCHDOG_ENV: Mapping[str, str] = {
    "SWITCHBOARD_WATCHDOG_SECONDS": "1",
    "SWITCHBOARD_WATCHDOG_INTERVAL": "0.25",
    "SWITCHBOARD_WATCHDOG_JOIN_SECONDS": "10",
    "SWITCHBOARD_WATCHDOG_MAX_RECOVERIES": "2",
    "SWITCHBOARD_RECONCILE_INTERVAL": "0",
}
CALL_ENDED = r"^\s*(BYE sip:|SIP/2.0 [456]\d\d )"
"""In a sipp message log: the other side ended the call (a BYE, or a final error response to a
call still ringing)."""
SPEECH_RMS = 0.01
"""Speech (espeak) at the phone is far above this; the silence livekit-sip sends is 0."""


@dataclass
class StrandedSystem:
    """The call-flow system plus ``switchboard serve`` with the watchdog on."""

    callflow: CallFlowSystem
    service: ManagedProcess
    store_url: str

    @property
    def stack(self) -> Stack:
        return self.callflow.stack

    @property
    def workdir(self) -> Path:
        return self.callflow.workdir

    def qualifier_pid(self, room: str) -> int:
        """The pid of the qualifier job process that holds ``room``'s call (its log says)."""
        log = (self.workdir / "agent-qualifier.log").read_text(errors="replace")
        for line in reversed(log.splitlines()):
            if "caller joined" in line and room in line:
                found = re.search(r'"pid":\s*(\d+)', line)
                if found:
                    return int(found.group(1))
        raise AssertionError(f"no 'caller joined' line with a pid for {room} in the agent's log")

    async def facts(self, room: str, kind: str) -> list[dict[str, Any]]:
        """The details of ``room``'s facts of ``kind``, from the service's store."""
        async with await Store.open(self.store_url) as store:
            timeline = await store.timeline(room)
        return [entry.detail["detail"] for entry in timeline if entry.detail.get("kind") == kind]


def write_stranded_rules(directory: Path) -> Path:
    """The seed rules plus a rule sending calls to ``UNSERVED_CALLED`` to ``UNSERVED_AGENT``."""
    text = SEED_RULES.read_text().replace(
        "default: nobody",
        f"""  - id: unserved
    when:
      event: participant_joined
      participant.kind: SIP
      sip.trunkPhoneNumber: "{UNSERVED_CALLED}"
    then:
      dispatch:
        - agent: {UNSERVED_AGENT}

default: nobody""",
    )
    path = directory / "stranded-rules.yaml"
    path.write_text(text)
    return path


@contextmanager
def start_stranded_system(
    tmp_path_factory: pytest.TempPathFactory,
    env: Mapping[str, str] = WATCHDOG_ENV,
    workdir_name: str = "stranded",
    config_override: Mapping[str, Any] | None = None,
) -> Iterator[StrandedSystem]:
    """The call-flow system for the seed number and ``UNSERVED_CALLED``, and ``switchboard
    serve`` with ``env`` (the watchdog's settings)."""
    rules = write_stranded_rules(tmp_path_factory.mktemp("stranded-rules"))
    with start_callflow_system(
        tmp_path_factory,
        config_override,
        workdir_name,
        rules=rules,
        called=(CALLED, UNSERVED_CALLED),
    ) as callflow:
        served = start_serve({**callflow.stack.config.env(), **env}, callflow.workdir, rules)
        try:
            yield StrandedSystem(callflow, served.process, served.store_url)
        finally:
            served.stop()


def customers_only() -> dict[str, Any]:
    """An agents-config override: a caller who is not a customer yet (presses 2) does not
    qualify, so the qualifier says goodbye and leaves."""
    config = yaml.safe_load(DEFAULT_AGENTS_CONFIG.read_text())
    questions = config["qualifier"]["questions"]
    questions[0]["expect"] = "yes"
    return {"qualifier": {"questions": questions}}


@pytest.fixture(scope="module")
def stranded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StrandedSystem]:
    with start_stranded_system(tmp_path_factory, config_override=customers_only()) as system:
        yield system


def speech_windows(chunks: list[Chunk], start: float, end: float, step: float = 0.1) -> list[float]:
    """Start times of the ``step``-long windows in [start, end) that hold speech."""
    times = []
    t = start
    while t < end:
        if rms(chunks, t, t + step) > SPEECH_RMS:
            times.append(t)
        t += step
    return times


def heard_again(chunks: list[Chunk], after: float, end: float, gap: float = 1.0) -> float | None:
    """When speech came back at the phone after ``after``: the first speech once a silence of
    at least ``gap`` seconds began (what was in flight when the agent died is not it)."""
    speech = speech_windows(chunks, after, end)
    previous = after
    for t in speech:
        if t - previous >= gap:
            return t
        previous = t
    return None


def record(workdir: Path, name: str, values: Mapping[str, Any]) -> None:
    """Append one measurement to ``workdir/measurements.jsonl`` (the bench reads it too)."""
    with (workdir / "measurements.jsonl").open("a") as out:
        out.write(json.dumps({"test": name, "at": time.time(), **values}) + "\n")
