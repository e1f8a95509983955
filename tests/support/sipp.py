"""sipp, the real SIP test tool, as a UAS (the phone LiveKit dials) or a UAC (a caller)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from switchboard.stack.config import free_port
from switchboard.stack.process import ManagedProcess
from tests.support.dtmf_pcap import SIP_TESTER, shifted_presses

SCENARIOS = Path(__file__).with_name("sipp")


@dataclass
class Sipp:
    process: ManagedProcess
    host: str
    port: int
    message_log: Path

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def messages(self) -> str:
        return self.message_log.read_text(errors="replace") if self.message_log.exists() else ""

    def wait_exit(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while self.process.running() and time.monotonic() < deadline:
            time.sleep(0.1)

    def stop(self) -> None:
        self.process.stop(grace=2.0)


def _render(workdir: Path, template: str, name: str, values: dict[str, str]) -> Path:
    """A copy of a scenario with our placeholders filled in.

    sipp validates status codes and timeouts when it parses a scenario, before ``-key`` values
    are substituted, so values go into the file itself.
    """
    text = (SCENARIOS / template).read_text()
    for key, value in values.items():
        text = text.replace(f"[{key}]", value)
    path = workdir / f"{name}.xml"
    path.write_text(text)
    return path


_PLAY = '  <nop><action><exec play_pcap_audio="{}" /></action></nop>\n'


def _talk(milliseconds: int) -> str:
    """Scenario lines that keep sending speech for ``milliseconds`` (7 s pcap, replayed)."""
    talk = _PLAY.format(SIP_TESTER / "g711a.pcap")
    return "".join(
        talk + f'  <pause milliseconds="{min(7000, milliseconds - done)}" />\n'
        for done in range(0, milliseconds, 7000)
    )


def _start(
    workdir: Path, name: str, host: str, scenario: Path, target: str | None, port: int = 0
) -> Sipp:
    port = port or free_port()
    message_log = workdir / f"{name}-messages.log"
    argv = [
        "sipp", "-i", host, "-p", str(port), "-m", "1", "-nostdin",
        "-trace_msg", "-message_file", str(message_log),
        "-trace_err", "-error_file", str(workdir / f"{name}-errors.log"),
        "-sf", str(scenario),
    ]  # fmt: skip
    if target:
        argv.append(target)
    process = ManagedProcess(name=name, argv=argv, log_path=workdir / f"{name}.log")
    process.start()
    time.sleep(0.3)  # sipp binds its socket right after start
    return Sipp(process, host, port, message_log)


def start_uas(workdir: Path, host: str, code: int, reason: str = "OK", *, port: int = 0) -> Sipp:
    """A phone that answers every INVITE with ``code`` (200 answers with PCMU SDP)."""
    if code == 200:
        scenario = _render(workdir, "uas_answer.xml", "uas-200", {})
    else:
        values = {"code": str(code), "reason": reason}
        scenario = _render(workdir, "uas_reject.xml", f"uas-{code}", values)
    return _start(workdir, f"uas-{code}", host, scenario, None, port)


def start_ringing_uas(workdir: Path, host: str, *, port: int = 0) -> Sipp:
    """A phone that rings (180) and never answers; a CANCEL ends the INVITE with 487."""
    scenario = _render(workdir, "uas_ring_forever.xml", "uas-ringing", {})
    return _start(workdir, "uas-ringing", host, scenario, None, port)


def start_talking_uas(workdir: Path, host: str, *, port: int, hold_ms: int) -> Sipp:
    """A person who answers, talks (G.711 audio from a pcap) and hangs up after ``hold_ms``."""
    scenario = _render(workdir, "uas_answer_talk.xml", "uas-talk", {"talk_block": _talk(hold_ms)})
    return _start(workdir, "uas-talk", host, scenario, None, port)


def start_dtmf_caller(
    workdir: Path,
    host: str,
    target: str,
    *,
    caller: str,
    called: str,
    digit: str,
    presses: int,
    hold_ms: int,
) -> Sipp:
    """A caller that talks, presses ``digit`` every 2.5 s ``presses`` times, talks on while
    holding for ``hold_ms``, and hangs up."""
    talk = _PLAY.format(SIP_TESTER / "g711a.pcap")
    press_block = "".join(
        (talk if i % 3 == 0 else "") + '  <pause milliseconds="2500" />\n' + _PLAY.format(path)
        for i, path in enumerate(shifted_presses(workdir, digit, presses))
    )  # the caller keeps talking (a 7 s recording every 7.5 s) while pressing keys
    values = {
        "caller": caller,
        "called": called,
        "presses_block": press_block,
        "hold_block": _talk(hold_ms),
    }
    scenario = _render(workdir, "uac_dtmf_call.xml", f"uac-dtmf-{caller}", values)
    return _start(workdir, f"uac-dtmf-{caller}", host, scenario, target)


def start_uac(
    workdir: Path,
    host: str,
    target: str,
    *,
    caller: str,
    called: str,
    xheader: str = "X-Switchboard-Test: 1",
    hold_ms: int = 60000,
) -> Sipp:
    """A caller that INVITEs ``called`` at ``target`` (livekit-sip) from ``caller``."""
    values = {"caller": caller, "called": called, "xheader": xheader, "hold_ms": str(hold_ms)}
    scenario = _render(workdir, "uac_call.xml", f"uac-{caller}", values)
    return _start(workdir, f"uac-{caller}", host, scenario, target)
