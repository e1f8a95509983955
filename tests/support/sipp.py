"""sipp, the real SIP test tool, as a UAS (the phone LiveKit dials) or a UAC (a caller)."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from switchboard.stack.config import free_port, free_ports
from switchboard.stack.process import ManagedProcess
from tests.support.dtmf_pcap import SIP_TESTER, shifted_presses
from tests.support.tone_pcap import tone_blocks

SCENARIOS = Path(__file__).with_name("sipp")
MESSAGE_RULE = "-" * 47 + " "
"""What opens each message in sipp's ``-trace_msg`` log, before its local date and time."""


@dataclass
class Sipp:
    process: ManagedProcess
    host: str
    port: int
    message_log: Path
    media_port: int = 0  # where its RTP arrives; 0: sipp's own choice (6000, or the next free)

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def messages(self) -> str:
        return self.message_log.read_text(errors="replace") if self.message_log.exists() else ""

    def first_message(self, start: str) -> float | None:
        """When (``time.time()`` seconds) the first message, sent or received, whose first line
        starts with ``start`` (``INVITE``, ``CANCEL``, ``SIP/2.0 200``) was logged; None if none.
        """
        for block in self.messages().split(MESSAGE_RULE)[1:]:
            stamp, _, rest = block.partition("\n")
            body = rest.split("\n\n", 1)[-1].lstrip("\n")
            if body.startswith(start):
                return datetime.strptime(stamp.strip(), "%Y-%m-%d %H:%M:%S.%f").timestamp()
        return None

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
    workdir: Path,
    name: str,
    host: str,
    scenario: Path,
    target: str | None,
    port: int = 0,
    *,
    media_port: int = 0,
) -> Sipp:
    port = port or free_port()
    message_log = workdir / f"{name}-messages.log"
    argv = [
        "sipp",
        "-i",
        host,
        "-p",
        str(port),
        "-m",
        "1",
        "-nostdin",
        "-trace_msg",
        "-message_file",
        str(message_log),
        "-trace_err",
        "-error_file",
        str(workdir / f"{name}-errors.log"),
        "-sf",
        str(scenario),
    ]
    if media_port:
        argv += ["-mp", str(media_port)]
    if target:
        argv.append(target)
    process = ManagedProcess(name=name, argv=argv, log_path=workdir / f"{name}.log")
    process.start()
    time.sleep(0.3)  # sipp binds its socket right after start
    return Sipp(process, host, port, message_log, media_port)


def free_media_port(host: str) -> int:
    """An even UDP port free together with the three above it.

    sipp binds audio at ``-mp`` and video two above, and silently moves both up when either is
    taken, which would leave a capture listening on the wrong port. The ports come from below the
    kernel's ephemeral range (``free_ports``), where no client socket takes them meanwhile.
    """
    start = free_ports(5)
    return start + start % 2


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
    media_port: int = 0,
) -> Sipp:
    """A caller that talks, presses ``digit`` every 2.5 s ``presses`` times, talks on while
    holding for ``hold_ms``, and hangs up; ``media_port`` as in ``start_tone_uas``."""
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
    return _start(workdir, f"uac-dtmf-{caller}", host, scenario, target, media_port=media_port)


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


def _timeline(plays: list[tuple[int, Path]], length_ms: int, *, peer_bye: str = "") -> str:
    """Scenario lines that start each pcap at its offset (ms) and last ``length_ms``.

    With ``peer_bye``, the waits are receives of a BYE that time out, so the other side may hang
    up at any moment (the scenario jumps to that label); otherwise they are plain pauses.
    """
    lines, now = [], 0
    for step, (at, pcap) in enumerate([*sorted(plays), (length_ms, None)]):
        if at > now:
            if peer_bye:
                lines.append(
                    f'  <recv request="BYE" timeout="{at - now}" ontimeout="t{step}"'
                    f' next="{peer_bye}" />\n  <label id="t{step}" />\n'
                )
            else:
                lines.append(f'  <pause milliseconds="{at - now}" />\n')
            now = at
        if pcap is not None:
            lines.append(_PLAY.format(pcap))
    return "".join(lines)


def _media_dir(workdir: Path, name: str) -> Path:
    """A directory of its own for a phone's pcaps: two phones may hum the same tone."""
    return Path(tempfile.mkdtemp(prefix=f"{name}-pcaps-", dir=workdir))


def start_tone_uas(
    workdir: Path,
    host: str,
    *,
    port: int,
    tone_hz: float,
    hold_ms: int,
    press: str | None = None,
    press_after_ms: int = 0,
    presses: int = 3,
    media_port: int = 0,
) -> Sipp:
    """A person who answers (PCMA) and hums a ``tone_hz`` sine until hanging up after ``hold_ms``,
    or until the other side hangs up.

    With ``press``, the person presses that key ``presses`` times, a second apart, from
    ``press_after_ms`` after answering (RFC 2833 events of 160 ms in the tone's RTP stream).
    ``media_port`` (default: a free one) is where the RTP the person hears arrives:
    ``Sipp.media_port``.
    """
    media_port = media_port or free_media_port(host)
    name = f"uas-tone-{tone_hz:g}"
    keys = [(press_after_ms + 1000 * i, press) for i in range(presses)] if press else []
    plays = tone_blocks(_media_dir(workdir, name), tone_hz, hold_ms, presses=keys)
    block = _timeline(plays, hold_ms, peer_bye="peer_bye")
    scenario = _render(workdir, "uas_answer_tone.xml", name, {"tone_block": block})
    return _start(workdir, name, host, scenario, None, port, media_port=media_port)


def start_tone_dtmf_caller(
    workdir: Path,
    host: str,
    target: str,
    *,
    caller: str,
    called: str,
    tone_hz: float,
    digit: str,
    presses: int,
    hold_ms: int,
    press_every_ms: int = 2500,
    media_port: int = 0,
) -> Sipp:
    """Like ``start_dtmf_caller``, but the caller's voice is a ``tone_hz`` sine: it hums, presses
    ``digit`` every ``press_every_ms`` ``presses`` times, hums on for ``hold_ms`` and hangs up."""
    media_port = media_port or free_media_port(host)
    length = presses * press_every_ms + hold_ms
    name = f"uac-tone-{caller}"
    keys = [(press_every_ms * (i + 1), digit) for i in range(presses)]
    plays = tone_blocks(_media_dir(workdir, name), tone_hz, length, presses=keys)
    values = {"caller": caller, "called": called, "media_block": _timeline(plays, length)}
    scenario = _render(workdir, "uac_tone_call.xml", name, values)
    return _start(workdir, name, host, scenario, target, media_port=media_port)
