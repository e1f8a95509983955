"""Inbound call → qualifier → outbound-caller cannot reach the human → back to the qualifier.

sipp calls the seed number; the SIP dispatch rule that `switchboard rules apply --sip` compiled
from examples/rules/seed.yaml sends the call to `qualifier` only; the caller answers by DTMF; the
qualifier dispatches `outbound-caller` into the caller's room, which dials the human (a second
sipp) who is busy, unavailable, loops or never answers: the caller is offered a callback and the
qualifier's log says why. The successful hand-offs are in test_warm_transfer.py (the default,
`handoff: warm`) and test_direct_handoff.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import pytest
from livekit import api

from tests.integration.callflow.conftest import (
    CALLED,
    CallFlowSystem,
)
from tests.integration.callflow.observe import agent_names, caller_room, participants
from tests.support.participants import eventually
from tests.support.sipp import (
    Sipp,
    start_dtmf_caller,
    start_ringing_uas,
    start_uas,
)

pytestmark = [pytest.mark.sip, pytest.mark.timeout(240)]


class AgentWatch:
    """Polls the room: every agent name ever seen, and the qualifier's last attributes."""

    def __init__(self, lkapi: api.LiveKitAPI, room: str) -> None:
        self.lkapi, self.room = lkapi, room
        self.agents_seen: set[str] = set()
        self.dispatches_seen: set[str] = set()
        self.qualifier: dict[str, str] = {}
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while True:
            try:
                people = await participants(self.lkapi, self.room)
                self.agents_seen.update(agent_names(people))
                for p in people:
                    if p.attributes.get("lk.agent_name") == "qualifier":
                        self.qualifier = dict(p.attributes)
                dispatches = await self.lkapi.agent_dispatch.list_dispatch(room_name=self.room)
                self.dispatches_seen.update(d.agent_name for d in dispatches)
            except api.TwirpError:
                pass
            await asyncio.sleep(0.3)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


RINGING = 180  # the human's phone rings until the target's ringing timeout (8 s) ends the call


def _transfer_failures(workdir: Path, room: str) -> list[dict[str, object]]:
    """The qualifier's "transfer failed" records for ``room`` (its log is one JSON per line)."""
    log = workdir / "agent-qualifier.log"
    records = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        with contextlib.suppress(ValueError):
            record = json.loads(line)
            if record.get("message") == "transfer failed" and record.get("room") == room:
                records.append(record)
    return records


@pytest.mark.parametrize(
    ("code", "reason", "outcome", "error"),
    [
        (486, "Busy Here", "busy", "SIP 486 Busy Here"),
        (480, "Temporarily Unavailable", "no_answer", "SIP 480 Temporarily Unavailable"),
        (482, "Loop Detected", "loop_detected", "SIP 482 Loop Detected"),
        (RINGING, "Ringing", "no_answer", "Ringing Timeout"),
    ],
    ids=["busy", "no-answer", "loop-detected", "rings-until-timeout"],
)
async def test_human_unreachable_caller_gets_the_callback_offer_and_the_reason_is_recorded(
    callflow: CallFlowSystem,
    callflow_api: api.LiveKitAPI,
    code: int,
    reason: str,
    outcome: str,
    error: str,
) -> None:
    stack, lkapi = callflow.stack, callflow_api
    caller = f"+1555123{code}"
    node_ip, port = stack.config.node_ip, callflow.human_port
    human: Sipp = (
        start_ringing_uas(callflow.workdir, node_ip, port=port)
        if code == RINGING
        else start_uas(callflow.workdir, node_ip, code, reason, port=port)
    )
    phone = start_dtmf_caller(
        callflow.workdir,
        stack.config.node_ip,
        stack.config.sip_address,
        caller=caller,
        called=CALLED,
        digit="1",
        presses=16,
        hold_ms=5000,
    )
    watch: AgentWatch | None = None
    try:
        room = await caller_room(lkapi, caller)
        watch = AgentWatch(lkapi, room)

        async def fell_back() -> bool:
            assert watch is not None
            return watch.qualifier.get("switchboard.state") in {"fallback", "ended"}

        await eventually(fell_back, timeout=90)
        assert watch.qualifier.get("switchboard.transfer") == outcome
        assert error in watch.qualifier.get("switchboard.error", ""), watch.qualifier
        assert watch.agents_seen <= {"qualifier", "outbound-caller"}
        assert "" not in watch.dispatches_seen

        async def logged() -> bool:
            return bool(_transfer_failures(callflow.workdir, room))

        await eventually(logged, timeout=10)
        (record,) = _transfer_failures(callflow.workdir, room)
        assert record["outcome"] == outcome
        assert error in str(record["error"]), record
        assert record["level"] == "WARNING"
    finally:
        if watch is not None:
            await watch.stop()
        phone.stop()
        human.stop()
