"""``switchboard call``: call a number from the terminal over a real SIP leg, answer by keypad.

The phone is baresip (``_phone``), so the call takes the path every caller takes: livekit-sip,
the SIP dispatch rule, the room and the agents it names. Lines typed are keypad digits sent as
DTMF. With ``LIVEKIT_*`` set, what the agents say is printed as it is said (``_listen``).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from switchboard.call._listen import Listener, find_call_room
from switchboard.call._phone import Audio, CallError, CallEvent, Phone, local_address_towards
from switchboard.livekit import LiveKitClient
from switchboard.settings import Settings

KEYS = set("0123456789*#")
ROOM_TIMEOUT = 30.0
HANGUP_WORDS = {"", "q", "quit", "hangup", "bye"}


@dataclass(frozen=True)
class CallRequest:
    """Whom to call, where, as whom, and with what audio (``none``, ``alsa``, ``pulse``)."""

    number: str
    sip_address: str
    caller: str
    audio: str = "none"

    @property
    def uri(self) -> str:
        return f"sip:{self.number}@{self.sip_address}"

    @property
    def host(self) -> str:
        return self.sip_address.rsplit(":", 1)[0] if ":" in self.sip_address else self.sip_address


def say(text: str) -> None:
    print(text, flush=True)


def place_call(request: CallRequest, settings: Settings) -> int:
    """Call, relay keypad lines until hang-up; the exit code (0 after a call that connected)."""
    with tempfile.TemporaryDirectory(prefix="switchboard-call-") as workdir:
        return asyncio.run(_call(request, settings, Path(workdir)))


async def _call(request: CallRequest, settings: Settings, workdir: Path) -> int:
    audio = Audio.silent(workdir) if request.audio == "none" else Audio.device(request.audio)
    phone = Phone(workdir, request.caller, local_address_towards(request.host), audio)
    listener: Listener | None = None
    try:
        await phone.start()
        say(f"calling {request.uri} from {request.caller}")
        await phone.dial(request.uri)
        lines = _stdin_lines()
        state = _CallState()
        watch: asyncio.Task[None] | None = None
        while not state.ended:
            event_task = asyncio.ensure_future(phone.events.get())
            line_task = asyncio.ensure_future(lines.get())
            done, _ = await asyncio.wait(
                {event_task, line_task}, return_when=asyncio.FIRST_COMPLETED
            )
            for task in (event_task, line_task):
                if task not in done:
                    task.cancel()
            if event_task in done:
                event = event_task.result()
                state.on_event(event)
                if state.call_id and watch is None and settings.has_livekit:
                    listener = Listener(lambda who, text: say(f"{who}: {text}"))
                    watch = asyncio.create_task(_listen(settings, state.call_id, listener))
            if line_task in done:
                await _on_line(line_task.result(), phone, state)
        if watch is not None:
            watch.cancel()
        return 0 if state.connected else 1
    except CallError as exc:
        say(f"error: {exc}")
        return 1
    finally:
        if listener is not None:
            with contextlib.suppress(Exception):
                await listener.leave()
        await phone.close()


@dataclass
class _CallState:
    call_id: str = ""
    ringing: bool = False
    connected: bool = False
    hanging_up: bool = False
    ended: bool = False

    def on_event(self, event: CallEvent) -> None:
        self.call_id = self.call_id or event.call_id
        if event.kind == "CALL_RINGING" and not self.ringing:
            self.ringing = True
            say("ringing…")
        elif event.kind == "CALL_ESTABLISHED":
            self.connected = True
            say("connected: type keypad digits (0-9 * #) and Enter; an empty line hangs up")
        elif event.kind in ("CALL_CLOSED", "CONTROL_CLOSED"):
            self.ended = True
            reason = "you hung up" if self.hanging_up else event.text or "hung up"
            say(f"call ended: {reason}" if self.connected else f"call failed: {reason}")


async def _on_line(line: str | None, phone: Phone, state: _CallState) -> None:
    text = (line or "").strip()
    if state.hanging_up:
        return
    if line is None or text.lower() in HANGUP_WORDS:
        say("hanging up")
        state.hanging_up = True
        await phone.hangup()
        if not state.call_id:
            state.ended = True
        return
    keys = text.replace(" ", "")
    if not set(keys) <= KEYS:
        say("a phone line carries keypad digits only: type 0-9, * or #")
        return
    if not state.connected:
        say("not connected yet: the digits were not sent")
        return
    await phone.press(keys)
    say(f"pressed {keys}")


async def _listen(settings: Settings, call_id: str, listener: Listener) -> None:
    secret = settings.livekit_api_secret.get_secret_value()
    async with LiveKitClient(settings.livekit_url, settings.livekit_api_key, secret) as client:
        try:
            async with asyncio.timeout(ROOM_TIMEOUT):
                room = await find_call_room(client, call_id)
        except TimeoutError:
            say(f"(no room on {settings.livekit_url} holds this call, so no transcript)")
            return
    say(f"in room {room}")
    await listener.join(settings.livekit_url, settings.livekit_api_key, secret, room)


def _stdin_lines() -> asyncio.Queue[str | None]:
    """Lines typed on stdin (None at end of input), read by a daemon thread."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()
    put: Callable[[str | None], None] = queue.put_nowait

    def read() -> None:
        for line in sys.stdin:
            loop.call_soon_threadsafe(put, line)
        loop.call_soon_threadsafe(put, None)

    threading.Thread(target=read, name="stdin", daemon=True).start()
    return queue
