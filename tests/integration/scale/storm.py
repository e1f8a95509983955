"""The parts of the call storm: sipp placing many calls, Switchboard replicas on PostgreSQL,
and what each side recorded (sipp's messages, the RTP callers received, the qualifier's jobs,
the store's attempts), read back into one verdict per call."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack
from tests.support.rtp_capture import Chunk, RtpCapture, decode, rms
from tests.support.serve import start_serve

SCENARIO = Path(__file__).with_name("uac_storm.xml")
CALLER_BLOCK = "40"  # callers are +155540<n>, n = sipp's call number


def start_callers(
    workdir: Path,
    host: str,
    target: str,
    *,
    called: str,
    calls: int,
    rate: float,
    hold_ms: int,
    media_port: int,
    caller_block: str = CALLER_BLOCK,
) -> tuple[ManagedProcess, Path]:
    """One sipp placing ``calls`` calls at ``rate`` per second, each held ``hold_ms``, from
    +1555<caller_block><n> (give each sipp running at the same time a block of its own)."""
    text = SCENARIO.read_text()
    for key, value in {
        "called": called,
        "hold_ms": str(hold_ms),
        "caller_block": caller_block,
    }.items():
        text = text.replace(f"[{key}]", value)
    scenario = workdir / "uac_storm.xml"
    scenario.write_text(text)
    messages = workdir / "storm-messages.log"
    process = ManagedProcess(
        name="storm-callers",
        argv=[
            "sipp",
            "-i",
            host,
            "-p",
            "0",
            "-mp",
            str(media_port),
            "-nostdin",
            "-m",
            str(calls),
            "-r",
            str(rate),
            "-rp",
            "1000",
            "-l",
            str(calls),
            "-trace_msg",
            "-message_file",
            str(messages),
            "-trace_err",
            "-error_file",
            str(workdir / "storm-errors.log"),
            "-sf",
            str(scenario),
            target,
        ],
        log_path=workdir / "storm-callers.log",
    )
    process.start()
    return process, messages


@dataclass
class CallRecord:
    """What one caller's sipp saw: its call id, livekit-sip's RTP port for it, how it ended, and
    when (``time.time()`` seconds) it sent the INVITE and got the 200 OK."""

    caller: str
    call_id: str
    invited_at: float = 0.0
    answered_at: float = 0.0
    answered: bool = False
    sip_rtp_port: int = 0
    ended_by_peer: bool = False


_MESSAGE = re.compile(
    r"-{20,} ([^\n]*)\n(UDP|TCP) message (sent|received)[^\n]*\n\n(.*?)(?=\n-{20,} |\Z)", re.S
)


def read_calls(messages: Path) -> dict[str, CallRecord]:
    """Caller number -> its call, from sipp's message trace."""
    calls: dict[str, CallRecord] = {}
    by_id: dict[str, CallRecord] = {}
    text = messages.read_text(errors="replace") if messages.exists() else ""
    for stamp, direction, body in (m.group(1, 3, 4) for m in _MESSAGE.finditer(text)):
        call_id = _header(body, "Call-ID")
        first = body.split("\n", 1)[0].strip()
        if direction == "sent" and first.startswith("INVITE "):
            caller = re.search(r"From: <sip:([^@]+)@", body)
            if caller and call_id not in by_id:
                record = CallRecord(caller.group(1), call_id, invited_at=_when(stamp))
                calls[record.caller] = by_id[call_id] = record
        record_or_none = by_id.get(call_id)
        if record_or_none is None or direction != "received":
            continue
        if first.startswith("SIP/2.0 200") and "INVITE" in _header(body, "CSeq"):
            if not record_or_none.answered:
                record_or_none.answered_at = _when(stamp)
            record_or_none.answered = True
            port = re.search(r"m=audio (\d+)", body)
            if port:
                record_or_none.sip_rtp_port = int(port.group(1))
        elif first.startswith("BYE "):
            record_or_none.ended_by_peer = True
    return calls


def _when(stamp: str) -> float:
    """sipp's local date and time of a message, as ``time.time()`` seconds."""
    return datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()


def _header(body: str, name: str) -> str:
    found = re.search(rf"^\s*{name}:\s*(.*)$", body, re.M | re.I)
    return found.group(1).strip() if found else ""


def loudest_second_by_source(capture: RtpCapture) -> dict[int, float]:
    """livekit-sip RTP source port -> the highest RMS of any one second the caller heard."""
    chunks: dict[int, list[Chunk]] = defaultdict(list)
    for packet in capture.packets():
        chunks[packet.source_port].extend(decode([packet]))
    return {port: _loudest_second(found) for port, found in chunks.items()}


def _loudest_second(chunks: list[Chunk]) -> float:
    if not chunks:
        return 0.0
    start, end = chunks[0].arrival, chunks[-1].arrival
    levels = [rms(chunks, t, t + 1.0) for t in _steps(start, end, 0.5)]
    return max(levels, default=0.0)


def _steps(start: float, end: float, step: float) -> Iterable[float]:
    t = start
    while t <= end:
        yield t
        t += step


def jobs_by_room(agent_log: Path) -> dict[str, list[str]]:
    """Room -> the job ids the agent's worker received for it ("received job request")."""
    jobs: dict[str, list[str]] = defaultdict(list)
    for line in agent_log.read_text(errors="replace").splitlines():
        if '"received job request"' not in line:
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        jobs[record["room"]].append(record["job_id"])
    return dict(jobs)


STORM_TUNING: Mapping[str, str] = {
    "SWITCHBOARD_POLL_INTERVAL": "0.2",
    "SWITCHBOARD_RECONCILE_INTERVAL": "0",
    "SWITCHBOARD_BACKOFF_BASE_SECONDS": "0.3",
    "SWITCHBOARD_BACKOFF_MAX_SECONDS": "3",
}
"""The storm's replicas: quick polls and retries within the test's minute, no reconciler."""


def start_replica(
    stack: Stack,
    number: int,
    port: int,
    store_url: str,
    rules: Path,
    workdir: Path,
    lease_seconds: float,
    livekit_url: str,
    tuning: Mapping[str, str] = STORM_TUNING,
) -> ManagedProcess:
    """``switchboard serve`` as its own process (SIGKILL-able) on the shared store, reaching
    LiveKit's API at ``livekit_url``, with ``tuning`` over the defaults (``{}``: production's)."""
    env = {
        **stack.config.env(),
        "LIVEKIT_URL": livekit_url,
        "SWITCHBOARD_WORKER_ID": f"replica-{number}",
        "SWITCHBOARD_TOKEN_SECRET": "storm-token-secret",
        "SWITCHBOARD_LEASE_SECONDS": str(lease_seconds),
        **tuning,
    }
    # Not awaited here: the test starts every replica, then waits for them all.
    served = start_serve(
        env,
        workdir,
        rules,
        port=port,
        store_url=store_url,
        name=f"replica-{number}",
        readiness=None,
    )
    return served.process


@dataclass
class RoomWatch:
    """What the server said about one room while it was open, from repeated polls."""

    node: int = 0
    qualifier_dispatches: int = 0
    unnamed_dispatches: int = 0
    agent_seen: bool = False
    agent_lost: bool = False  # the agent was there, then gone while the caller still was
    caller_seen: bool = False
    metadata: str = ""
    first_seen: float = 0.0  # seconds after the first call was placed
    polls: list[tuple[bool, bool]] = field(default_factory=list)  # (caller, agent) per poll
