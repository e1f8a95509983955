"""The agents' room I/O: an AgentSession that speaks our lines and hands every answer to us.

Text arrives on the standard ``lk.chat`` text stream (RoomIO's text input), speech through the
STT when one is configured, keypad digits as ``sip_dtmf_received`` room events. What the agent
says goes out as audio (when a TTS is configured) and always as text on ``lk.transcription``.
No LLM writes replies: our dialogue engines decide every line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from livekit import rtc
from livekit.agents import Agent, AgentSession, JobContext, StopResponse, llm
from livekit.agents.voice import SpeechHandle
from livekit.agents.voice.room_io import (
    RoomOptions,
    TextInputEvent,
    TextInputOptions,
    TextOutputOptions,
)

from switchboard.agents.providers import Providers

logger = logging.getLogger("switchboard.agents")

TextHandler = Callable[[str], Coroutine[Any, Any, None]]
DigitHandler = Callable[[str], Coroutine[Any, Any, None]]


class _ScriptedAgent(Agent):
    """Routes each finished user turn (speech) to our handler instead of an LLM."""

    def __init__(self, on_text: TextHandler) -> None:
        super().__init__(instructions="Follow the script; replies come from Switchboard.")
        self._on_text = on_text

    async def on_user_turn_completed(
        self, turn_ctx: llm.ChatContext, new_message: llm.ChatMessage
    ) -> None:
        text = new_message.text_content or ""
        if text.strip():
            await self._on_text(text)
        raise StopResponse()


class Timer:
    """One pending callback at a time; arming it again replaces (cancels) the previous one."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def arm(self, seconds: float, callback: Callable[[], Awaitable[None]]) -> None:
        self.cancel()

        async def fire() -> None:
            await asyncio.sleep(seconds)
            await callback()

        self._task = asyncio.create_task(fire(), name="switchboard.timer")

    def cancel(self) -> None:
        task, self._task = self._task, None
        # A callback may re-arm its own timer: never cancel the task we are running in.
        if task is not None and task is not asyncio.current_task():
            task.cancel()


class Conversation:
    """One agent's conversation with one participant (the caller, or the dialed human)."""

    def __init__(
        self,
        ctx: JobContext,
        providers: Providers,
        *,
        on_text: TextHandler,
        on_digit: DigitHandler,
        on_close: Callable[[str], Coroutine[Any, Any, None]],
    ) -> None:
        self._ctx = ctx
        self._providers = providers
        self._on_text = on_text
        self._on_digit = on_digit
        self._participant: rtc.RemoteParticipant | None = None
        self._identity = ""
        self._silent_track: rtc.LocalAudioTrack | None = None
        self._speaking: list[SpeechHandle] = []
        kwargs: dict[str, object] = {"user_away_timeout": None}
        if providers.stt is not None:
            kwargs["stt"] = providers.stt
            if providers.vad is not None:
                kwargs["vad"] = providers.vad
        else:
            # No speech input: no VAD to load and no turn detector to run.
            kwargs["vad"] = None
            kwargs["turn_handling"] = {"turn_detection": None}
        if providers.tts is not None:
            kwargs["tts"] = providers.tts
        self.session: AgentSession[None] = AgentSession(**kwargs)  # type: ignore[arg-type]
        self.session.on("close", lambda event: spawn(on_close(event.reason.value)))

    @property
    def participant(self) -> rtc.RemoteParticipant | None:
        return self._participant

    async def start(self, participant: rtc.RemoteParticipant) -> None:
        """Link to ``participant`` and start the session."""
        self._participant = participant
        await self.start_for(
            participant.identity, sip=participant.kind == rtc.ParticipantKind.PARTICIPANT_KIND_SIP
        )

    async def start_for(self, identity: str, *, sip: bool, transcribe: bool = True) -> None:
        """Start the session for ``identity``, who may not have joined yet (e.g. still being
        dialed): starting takes a second of CPU that should not delay the conversation.

        Without ``transcribe`` nothing we say goes out as text: ``lk.transcription`` reaches
        every participant of the room, whatever our track permissions say."""
        self._identity = identity
        options = RoomOptions(
            text_input=TextInputOptions(text_input_cb=self._text_input),
            audio_input=self._providers.stt is not None,
            audio_output=self._providers.tts is not None,
            # Unsynchronised transcripts: the synchroniser's speaking-rate analysis (numpy, on
            # this loop) stalled it for seconds on a loaded machine, delaying our own work.
            text_output=TextOutputOptions(sync_transcription=False) if transcribe else False,
            participant_identity=identity,
        )
        self._ctx.room.on("sip_dtmf_received", self._dtmf_received)
        await self.session.start(
            _ScriptedAgent(self._on_text), room=self._ctx.room, room_options=options
        )
        if self._providers.tts is None and sip:
            await self._publish_silence()

    def say(self, lines: tuple[str, ...] | list[str], *, interruptible: bool = True) -> None:
        """Queue ``lines`` to be spoken in order (and sent as text on lk.transcription).

        Closing lines are not ``interruptible``: a stray key press must not cut the last thing
        the caller hears before the call ends."""
        self._speaking = [h for h in self._speaking if not h.done()]
        self._speaking += [
            self.session.say(line, allow_interruptions=interruptible)
            for line in lines
            if line.strip()
        ]

    async def interrupt(self) -> None:
        """Cut the current prompt short, unless it is a closing line."""
        with contextlib.suppress(RuntimeError):  # not running, or not interruptible
            await self.session.interrupt()

    async def finish_speaking(self) -> None:
        """Wait until every queued line has played out (or was interrupted); at most 60 s."""
        pending = [h.wait_for_playout() for h in self._speaking if not h.done()]
        if pending:
            await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), 60)

    async def aclose(self) -> None:
        self._ctx.room.off("sip_dtmf_received", self._dtmf_received)
        await self.session.aclose()

    async def _text_input(self, _session: AgentSession[None], event: TextInputEvent) -> None:
        # Typing over the agent cuts it short, like barging in by voice does.
        await self.interrupt()
        await self._on_text(event.text)

    def _dtmf_received(self, event: rtc.SipDTMF) -> None:
        sender = event.participant
        if sender is None or not self._identity or sender.identity != self._identity:
            return
        logger.info("dtmf", extra={"room": self._ctx.room.name, "digit": event.digit})
        spawn(self._digit_input(event.digit))

    async def _digit_input(self, digit: str) -> None:
        # A key press cuts the prompt short, like typing or barging in by voice does.
        await self.interrupt()
        await self._on_digit(digit)

    async def _publish_silence(self) -> None:
        # A SIP call is only answered once the caller subscribes to a track of ours; in
        # text-only mode there is no speech track, so publish silence to answer the call.
        source = rtc.AudioSource(16000, 1)
        self._silent_track = rtc.LocalAudioTrack.create_audio_track("switchboard-silence", source)
        options = rtc.TrackPublishOptions(source=rtc.TrackSource.SOURCE_MICROPHONE)
        await self._ctx.room.local_participant.publish_track(self._silent_track, options)


_background: set[asyncio.Task[None]] = set()


def spawn(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run ``coroutine`` as a task that is kept alive until it ends (the loop holds weak refs)."""
    task = asyncio.create_task(coroutine)
    _background.add(task)
    task.add_done_callback(_background.discard)
