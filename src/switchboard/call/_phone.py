"""A real SIP phone for the terminal: baresip, driven over its ``ctrl_tcp`` control socket.

baresip (installed by ``switchboard stack install``) places the call like any softphone: SIP
INVITE to livekit-sip, G.711 audio, keypad digits as RFC 4733 telephone-events (what LiveKit
turns into ``sip_dtmf_received``). Its control protocol is netstring-framed JSON: commands
(``dial``, ``sndcode``, ``hangup``) and events (``CALL_RINGING``, ``CALL_ESTABLISHED``,
``CALL_CLOSED``).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.errors import SwitchboardError
from switchboard.stack.config import free_port
from switchboard.stack.process import ManagedProcess

MODULES = Path("/usr/lib/baresip/modules")
CONTROL_TIMEOUT = 10.0
SILENCE_SECONDS = 4 * 3600
"""baresip ends a call when its aufile source ends, so the silence lasts longer than any call."""


class CallError(SwitchboardError):
    """The terminal phone could not place or keep the call."""


@dataclass(frozen=True)
class Audio:
    """baresip's audio: ``player``/``source`` as ``module,device`` (e.g. ``alsa,default``)."""

    player: str
    source: str
    modules: tuple[str, ...]

    @classmethod
    def silent(cls, workdir: Path) -> Audio:
        """No sound card: send silence, drop what is heard (the transcript is printed)."""
        silence = workdir / "silence.wav"
        write_silence(silence, SILENCE_SECONDS)
        return cls(f"aubridge,{workdir.name}", f"aufile,{silence}", ("aufile.so", "aubridge.so"))

    @classmethod
    def device(cls, module: str) -> Audio:
        """The machine's speaker and microphone through ``module`` (alsa or pulse)."""
        return cls(f"{module},default", f"{module},default", (f"{module}.so",))


@dataclass
class CallEvent:
    """One baresip event: ``kind`` (``CALL_ESTABLISHED``…), the call id, its text."""

    kind: str
    call_id: str
    text: str


class Phone:
    """One baresip UA calling from ``caller``; ``start`` it, then ``dial``."""

    def __init__(self, workdir: Path, caller: str, local_ip: str, audio: Audio) -> None:
        self._workdir = workdir
        self._caller = caller
        self._local_ip = local_ip
        self._audio = audio
        self._control_port = free_port()
        self._process: ManagedProcess | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._responses: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.events: asyncio.Queue[CallEvent] = asyncio.Queue()

    @property
    def log_path(self) -> Path:
        return self._workdir / "baresip.log"

    async def start(self) -> None:
        """Write the configuration, start baresip, connect to its control socket."""
        binary = _baresip()
        self._write_config()
        self._process = ManagedProcess(
            name="baresip", argv=[binary, "-f", str(self._workdir)], log_path=self.log_path
        )
        self._process.start()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CONTROL_TIMEOUT
        while True:
            try:
                reader, self._writer = await asyncio.open_connection(
                    "127.0.0.1", self._control_port
                )
                break
            except OSError:
                if not self._process.running() or loop.time() > deadline:
                    raise CallError(
                        f"baresip did not start; last log lines:\n{self._process.tail(10)}"
                    ) from None
                await asyncio.sleep(0.1)
        self._reader_task = asyncio.create_task(self._read(reader))

    def _write_config(self) -> None:
        modules = [
            *(f"module\t\t{name}" for name in ("g711.so", *self._audio.modules)),
            *(f"module_app\t{name}" for name in ("account.so", "menu.so", "ctrl_tcp.so")),
        ]
        lines = [
            "poll_method\t\tepoll",
            f"sip_listen\t\t{self._local_ip}:0",
            f"audio_player\t\t{self._audio.player}",
            f"audio_source\t\t{self._audio.source}",
            f"audio_alert\t\t{self._audio.player}",
            f"module_path\t\t{MODULES}",
            *modules,
            f"ctrl_tcp_listen\t\t127.0.0.1:{self._control_port}",
        ]
        (self._workdir / "config").write_text("\n".join(lines) + "\n")
        # regint=0: no registration; the UA only places this call.
        account = f"<sip:{self._caller}@{self._local_ip}>;regint=0\n"
        (self._workdir / "accounts").write_text(account)
        (self._workdir / "contacts").write_text("")

    async def _read(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:
                length = await reader.readuntil(b":")
                message = json.loads((await reader.readexactly(int(length[:-1]) + 1))[:-1])
                if message.get("response"):
                    await self._responses.put(message)
                elif message.get("class") == "call":
                    event = CallEvent(
                        message.get("type", ""), message.get("id", ""), message.get("param", "")
                    )
                    await self.events.put(event)
        await self.events.put(CallEvent("CONTROL_CLOSED", "", "baresip stopped"))

    async def command(self, name: str, params: str = "") -> str:
        """Run one baresip command; its answer's text, or ``CallError`` when it failed."""
        if self._writer is None:
            raise CallError("the phone is not started")
        body = json.dumps({"command": name, "params": params, "token": name}).encode()
        self._writer.write(str(len(body)).encode() + b":" + body + b",")
        await self._writer.drain()
        answer = await asyncio.wait_for(self._responses.get(), CONTROL_TIMEOUT)
        if not answer.get("ok"):
            raise CallError(f"baresip {name} {params}: {answer.get('data', 'failed')}")
        return str(answer.get("data", ""))

    async def dial(self, uri: str) -> None:
        await self.command("dial", uri)

    async def press(self, digits: str) -> None:
        """Send ``digits`` as DTMF, one key after the other."""
        for digit in digits:
            await self.command("sndcode", digit)

    async def hangup(self) -> None:
        with contextlib.suppress(CallError, TimeoutError, ConnectionError):
            await self.command("hangup")

    async def close(self) -> None:
        """Hang up and stop baresip."""
        if self._writer is not None:
            self._writer.close()
        if self._reader_task is not None:
            self._reader_task.cancel()
        if self._process is not None:
            self._process.stop(grace=3.0)


def write_silence(path: Path, seconds: int, rate: int = 8000) -> None:
    """A 16-bit mono WAV of ``seconds`` of silence, written sparse (no disk space for zeros)."""
    data = seconds * rate * 2
    header = b"RIFF" + struct.pack("<I", 36 + data) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
    header += b"data" + struct.pack("<I", data)
    with path.open("wb") as out:
        out.write(header)
        out.truncate(len(header) + data)


def _baresip() -> str:
    binary = shutil.which("baresip")
    if binary is None or not MODULES.is_dir():
        raise CallError(
            "baresip is not installed: run 'switchboard stack install' (Debian package "
            "baresip), or dial the SIP URI from any softphone"
        )
    return binary


def local_address_towards(host: str) -> str:
    """The local IP the kernel would use to reach ``host`` (where baresip must listen).

    A connected UDP socket sends nothing; it only asks the routing table.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect((host, 5060))
        except OSError as exc:
            raise CallError(f"cannot route to the SIP host {host!r}: {exc}") from None
        address: str = probe.getsockname()[0]
    return address
