"""The qualifier agent: asks the configured questions, then hands a qualified caller to a human.

Dispatched by name only (``qualifier.name`` in the config, default ``qualifier``). It talks to the
first caller in the room (SIP or browser), over text on ``lk.chat`` / ``lk.transcription``, DTMF,
and speech when a TTS (espeak-ng offline) or STT is available. A qualified caller triggers the
configured transfer: the outbound-caller agent (``outbound_caller.name``) is dispatched into this
room with an ``OutboundCallJob`` and dials the human; both agents leave when the human joins.
Progress is published as ``switchboard.*`` participant attributes (see attributes.py) and kept
as one forward-only value (qualifier_progress.py); the outbound-caller's job and the watch on it
are in qualifier_transfer.py.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
from collections.abc import Callable

from livekit import api, rtc
from livekit.agents import AgentServer, JobContext

from switchboard.agents import attributes as attr
from switchboard.agents.answers import SlotValue, answered_before, answers_json
from switchboard.agents.config import DEFAULT_QUALIFIER_NAME, AgentsConfig, TransferTarget
from switchboard.agents.conversation import Conversation, Timer, spawn
from switchboard.agents.dialogue import (
    Outcome,
    Phase,
    QualificationDialogue,
    QualificationResult,
    Turn,
)
from switchboard.agents.interpret import rephrase
from switchboard.agents.providers import providers_for_job
from switchboard.agents.qualifier_progress import CallProgress, Progress
from switchboard.agents.qualifier_transfer import (
    OutboundCallerWatch,
    caller_room_job,
    new_room_job,
    why_uncallable,
)
from switchboard.agents.server import WorkerSettings, build_agent_server, start_job
from switchboard.handoff import (
    HoldAudio,
    HoldPattern,
    RoomSetupError,
    TransferOutcome,
    heard_by_all,
    leave_when_human_joins,
    only_heard_by,
    start_agent_room,
)
from switchboard.vocabulary import (
    DialOutcome,
    Handoff,
    LiveKitAttribute,
    QualifierState,
    TargetRoom,
    TransferProgress,
)

logger = logging.getLogger("switchboard.agents")

AGENT_NAME = DEFAULT_QUALIFIER_NAME
RESUMED = "Sorry, we were cut off. Let's carry on where we left off."
"""Said first by a qualifier that finds the caller's earlier answers (``attr.ANSWERED``)."""


def build_server(
    settings: WorkerSettings | None = None, agent_name: str = AGENT_NAME
) -> AgentServer:
    """The qualifier's worker: one named ``rtc_session``, never auto-dispatched."""
    return build_agent_server(agent_name, entrypoint, settings or WorkerSettings())


async def entrypoint(ctx: JobContext) -> None:
    """Job entrypoint: wait for the caller, run the qualification, transfer or say goodbye."""
    started = await start_job(ctx, AGENT_NAME, QualifierState.WAITING)
    caller = await ctx.wait_for_participant()
    logger.info(
        "caller joined",
        extra={"room": ctx.room.name, "caller": caller.identity, "pid": os.getpid()},
    )  # the pid: which job process holds this call, for operators (and the crash tests)
    call = QualifierCall(ctx, started.config, started.publisher, caller)
    await call.run()


def caller_label(caller: rtc.RemoteParticipant) -> str:
    """How the brief names the caller: their phone number when it is known."""
    return (
        caller.attributes.get(LiveKitAttribute.SIP_PHONE_NUMBER) or caller.name or caller.identity
    )


class QualifierCall:
    """One caller's path through the qualification and the transfer."""

    def __init__(
        self,
        ctx: JobContext,
        config: AgentsConfig,
        publisher: attr.AttributePublisher,
        caller: rtc.RemoteParticipant,
    ) -> None:
        self._ctx = ctx
        self._config = config
        self._publisher = publisher
        self._caller = caller
        self._dialogue = QualificationDialogue(config.qualifier)
        self._lock = asyncio.Lock()
        self._answer_timer = Timer()
        self._digit_timer = Timer()
        self._session_timer = Timer()
        self._timers = (self._answer_timer, self._digit_timer, self._session_timer)
        self._outbound_caller = OutboundCallerWatch(
            ctx.room,
            config,
            on_failed=self._fallback,
            # The human normally matches transfer.human and the presence watcher fires first;
            # this covers a config whose human rule the dialed participant does not meet.
            on_answered=lambda callee: self._connected(callee, leave=True),
        )
        self._progress = CallProgress(ctx.room.name)
        hold = config.transfer.hold
        self._hold = HoldAudio(
            ctx.room, HoldPattern(tuple(hold.tones_hz), hold.tone_ms, hold.gap_ms, hold.level)
        )
        self._saved_answers: dict[str, SlotValue] = {}
        self._resumed = False
        """Dispatched again to a caller who had answered before (a watchdog's recovery)."""
        self._providers = providers_for_job(config.speech, ctx.room.name)
        self._conversation = Conversation(
            ctx,
            self._providers,
            on_text=self._on_text,
            on_digit=self._on_digit,
            on_close=self._session_closed,
        )

    async def run(self) -> None:
        """Start talking; returns at once, the call goes on in event handlers and timers."""
        self._ctx.add_shutdown_callback(self._on_shutdown)
        self._session_timer.arm(
            self._config.timeouts.session_seconds,
            lambda: self._end_now("session time limit reached"),
        )
        await self._conversation.start(self._caller)
        saved = self._caller.attributes.get(attr.ANSWERED, "")
        answered = answered_before(self._config.qualifier.questions, saved)
        self._saved_answers = dict(answered)
        self._resumed = bool(answered)
        async with self._lock:
            if answered:
                logger.info(
                    "resuming: the caller answered before",
                    extra={"room": self._ctx.room.name, "answered": sorted(answered)},
                )
                await self._apply(self._dialogue.resume(answered, RESUMED))
            else:
                await self._apply(self._dialogue.start())

    async def _save_answers(self) -> None:
        """Keep the answers on the caller's participant, where a qualifier dispatched again
        (this one's process died) finds them: this agent's own attributes leave with it."""
        answered = self._dialogue.answered
        if answered == self._saved_answers:
            return
        self._saved_answers = dict(answered)
        request = api.UpdateParticipantRequest(
            room=self._ctx.room.name,
            identity=self._caller.identity,
            attributes={attr.ANSWERED: answers_json(answered)},
        )
        try:
            await self._ctx.api.room.update_participant(request)
        except Exception as exc:  # best effort (the caller may have hung up): the call goes on
            logger.info("could not save the answers on the caller", extra={"error": str(exc)})

    async def _on_shutdown(self) -> None:
        self._progress.advance(Progress.ENDED)
        for timer in self._timers:
            timer.cancel()
        self._outbound_caller.stop()
        await self._hold.stop()

    async def _session_closed(self, reason: str) -> None:
        if reason != "job_shutdown":  # otherwise we are leaving already
            await self._end_now(f"session closed: {reason}")

    async def _end_now(self, reason: str) -> None:
        if not self._progress.advance(Progress.ENDED):
            return
        for timer in self._timers:
            timer.cancel()
        self._outbound_caller.stop()
        await self._publisher.publish({attr.STATE: QualifierState.ENDED, attr.ERROR: reason})
        self._ctx.shutdown(reason=reason)

    async def _on_text(self, text: str) -> None:
        async with self._lock:
            if self._dialogue.phase is not Phase.ASKING:
                return
            if self._providers.llm is not None and not self._dialogue.understands(text):
                question = self._dialogue.question
                assert question is not None  # phase is ASKING
                rephrased = await rephrase(self._providers.llm, question, text)
                if rephrased is not None and self._dialogue.understands(rephrased):
                    logger.info("answer rephrased by LLM", extra={"room": self._ctx.room.name})
                    text = rephrased
            await self._apply(self._dialogue.hear(text))

    async def _on_digit(self, digit: str) -> None:
        await self._step(lambda: self._dialogue.press(digit))

    async def _step(self, step: Callable[[], Turn]) -> None:
        async with self._lock:
            await self._apply(step())

    async def _apply(self, turn: Turn) -> None:
        if not self._transfer_possible(turn):
            turn = dataclasses.replace(turn, say=())  # the fallback line replaces "connecting…"
        closing = turn.result is not None and turn.result.outcome is not Outcome.QUALIFIED
        self._conversation.say(turn.say, interruptible=not closing)
        await self._save_answers()
        if turn.phase is Phase.ASKING:
            await self._publisher.publish(
                {
                    attr.STATE: QualifierState.ASKING,
                    attr.QUESTION: turn.question_id or "",
                    attr.ATTEMPT: str(turn.attempt),
                }
            )
            if turn.say:
                self._arm_answer_timeout()
            if turn.collecting_digits:
                self._digit_timer.arm(
                    self._config.timeouts.dtmf_digit_seconds,
                    lambda: self._step(self._dialogue.digits_done),
                )
            else:
                self._digit_timer.cancel()
        if turn.result is not None and self._progress.advance(Progress.RESULT_TAKEN):
            self._answer_timer.cancel()
            self._digit_timer.cancel()
            await self._finish(turn.result)

    def _transfer_possible(self, turn: Turn) -> bool:
        result = turn.result
        if result is None or result.outcome is not Outcome.QUALIFIED or not result.transfer_to:
            return True
        return self._config.transfer.targets[result.transfer_to].configured

    def _arm_answer_timeout(self) -> None:
        async def wait_for_answer() -> None:
            await self._conversation.finish_speaking()
            await asyncio.sleep(self._config.timeouts.answer_seconds)
            await self._step(self._dialogue.silence)

        self._answer_timer.arm(0, wait_for_answer)

    async def _finish(self, result: QualificationResult) -> None:
        brief = result.brief(caller_label(self._caller))
        await self._publisher.publish(
            {
                attr.STATE: QualifierState.QUALIFIED
                if result.outcome is Outcome.QUALIFIED
                else QualifierState.FINISHED,
                attr.QUESTION: "",
                attr.RESULT: result.outcome.value,
                attr.SLOTS: json.dumps(result.slots, separators=(",", ":"), sort_keys=True),
                attr.BRIEF: brief,
            }
        )
        logger.info(
            "qualification finished",
            extra={"room": self._ctx.room.name, "outcome": result.outcome.value},
        )
        if result.outcome is Outcome.QUALIFIED and result.transfer_to:
            target = self._config.transfer.targets[result.transfer_to]
            await self._start_transfer(result.transfer_to, target, brief)
        else:
            self._end_after_speaking(f"qualification ended: {result.outcome.value}")

    async def _start_transfer(self, name: str, target: TransferTarget, brief: str) -> None:
        caller_number = self._caller.attributes.get(LiveKitAttribute.SIP_PHONE_NUMBER, "")
        number = target.number_to_dial(caller_number)
        problem = why_uncallable(name, target, number)
        if problem is not None:
            await self._fallback(TransferOutcome.NOT_CONFIGURED, problem)
            return
        if not self._progress.advance(Progress.TRANSFERRING):
            return
        if target.room is TargetRoom.NEW:
            await self._start_new_room(name, target, brief, number)
            return
        if target.handoff is Handoff.WARM:
            # From now on only the caller hears us: the human is briefed by the outbound-caller.
            only_heard_by(self._ctx.room, [self._caller.identity])
            spawn(self._hold_after_speaking())
        else:
            human = self._config.transfer.human
            leave_when_human_joins(
                self._ctx,
                kinds=human.kinds,
                identity_pattern=human.identity_pattern,
                attribute=(human.attribute.name, human.attribute.value)
                if human.attribute
                else None,
                exclude_identities=[self._caller.identity],
                reason="transferred to human",
                before_leaving=self._on_human_joined,
            )
        job = caller_room_job(
            name, target, brief, caller_room=self._ctx.room.name, caller=self._caller.identity
        )
        self._outbound_caller.watch()
        outbound_caller = self._config.outbound_caller.name
        try:
            await start_agent_room(
                self._ctx.api, self._ctx.room.name, outbound_caller, job.to_metadata()
            )
        except RoomSetupError as exc:
            await self._fallback(DialOutcome.FAILED, str(exc))
            return
        await self._publisher.publish(
            {
                attr.STATE: QualifierState.TRANSFERRING,
                attr.TRANSFER: TransferProgress.DISPATCHED,
                attr.TARGET: name,
            }
        )
        self._outbound_caller.arm(target)

    async def _hold_after_speaking(self) -> None:
        """Hold audio for the caller once "please hold" has been said."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._conversation.finish_speaking(), 10)
        if self._progress.value is Progress.TRANSFERRING:
            await self._hold.start()

    async def _end_hold(self) -> None:
        await self._hold.stop()
        heard_by_all(self._ctx.room)

    async def _on_human_joined(self, human: rtc.RemoteParticipant) -> None:
        await self._connected(human.identity, leave=False)
        with contextlib.suppress(TimeoutError):
            # Let "connecting you now" finish before leaving (leave_when_human_joins waits 5 s).
            await asyncio.wait_for(self._conversation.finish_speaking(), 4)

    async def _connected(self, human: str, *, leave: bool) -> None:
        if not self._progress.advance(Progress.TRANSFERRED):
            return
        self._outbound_caller.stop()
        await self._hold.stop()
        await self._publisher.publish(
            {
                attr.STATE: QualifierState.TRANSFERRED,
                attr.TRANSFER: TransferOutcome.CONNECTED,
                attr.ERROR: "",
            }
        )
        logger.info("transferred", extra={"room": self._ctx.room.name, "human": human})
        if leave:
            self._ctx.shutdown(reason=f"transferred to human: {human}")

    async def _fallback(self, outcome: str, error: str) -> None:
        if not self._progress.advance(Progress.FALLBACK):
            return
        self._outbound_caller.stop()
        logger.warning(
            "transfer failed",
            extra={"room": self._ctx.room.name, "outcome": outcome, "error": error},
        )
        await self._end_hold()
        await self._publisher.publish(
            {attr.STATE: QualifierState.FALLBACK, attr.TRANSFER: outcome, attr.ERROR: error}
        )
        self._conversation.say(
            (self._config.transfer.fallback.message_for(outcome),), interruptible=False
        )
        self._end_after_speaking(f"transfer failed: {outcome}")

    def _end_after_speaking(self, reason: str) -> None:
        async def end() -> None:
            try:
                await self._conversation.finish_speaking()
            except TimeoutError:
                logger.warning("speech did not finish in time", extra={"room": self._ctx.room.name})
            if not self._progress.advance(Progress.ENDED):
                return
            await self._publisher.publish({attr.STATE: QualifierState.ENDED})
            if self._resumed:
                # The watchdog brought this agent to a stranded caller; leaving them alone again
                # would only bring the next one: the call ends here, after the last words.
                await self._hang_up_caller()
            self._ctx.shutdown(reason=reason)

        spawn(end())

    async def _start_new_room(
        self, name: str, target: TransferTarget, brief: str, number: str
    ) -> None:
        """``room: new``: the outbound-caller calls in a new room; the caller's call ends."""
        options = target.new_room
        room = options.room_name(caller_label(self._caller), self._ctx.job.id[-6:].lower())
        job = new_room_job(
            name,
            target,
            brief,
            caller_room=self._ctx.room.name,
            caller=self._caller.identity,
            number=number,
        )
        try:
            await start_agent_room(
                self._ctx.api,
                room,
                self._config.outbound_caller.name,
                job.to_metadata(),
                empty_timeout=options.empty_timeout_seconds,
                departure_timeout=options.departure_timeout_seconds,
            )
        except RoomSetupError as exc:
            await self._fallback(DialOutcome.FAILED, str(exc))
            return
        if not self._progress.advance(Progress.HANDED_OFF):
            return  # the call ended meanwhile; the new room's outbound-caller goes on alone
        await self._publisher.publish(
            {
                attr.STATE: QualifierState.HANDED_OFF,
                attr.TRANSFER: TransferOutcome.NEW_ROOM,
                attr.NEW_ROOM: room,
                attr.TARGET: name,
                attr.ERROR: "",
            }
        )
        logger.info("handed off", extra={"room": self._ctx.room.name, "new_room": room})
        # Lines still queued ask questions already answered on the keypad, and the callback
        # waits for this call to end: only the goodbye is said.
        await self._conversation.interrupt()
        self._conversation.say((options.say_to_caller,), interruptible=False)
        spawn(self._hang_up_caller_after_speaking())

    async def _hang_up_caller_after_speaking(self) -> None:
        """End the caller's call (their line must be free for the callback); the room stays."""
        with contextlib.suppress(TimeoutError):
            await self._conversation.finish_speaking()
        if self._progress.advance(Progress.ENDED):
            await self._publisher.publish({attr.STATE: QualifierState.ENDED})
        await self._hang_up_caller()
        self._ctx.shutdown(reason="handed off to a new room")

    async def _hang_up_caller(self) -> None:
        """End the caller's call (``RemoveParticipant``); the room stays."""
        caller = api.RoomParticipantIdentity(
            room=self._ctx.room.name, identity=self._caller.identity
        )
        try:
            await self._ctx.api.room.remove_participant(caller)
        except api.TwirpError as exc:  # the caller may have hung up already
            logger.info("could not hang up the caller", extra={"error": str(exc)})
