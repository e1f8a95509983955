"""The outbound-caller's warm transfer: dial the human into the caller's room, brief them in
private while the caller is on hold, connect the two when the human accepts.

The qualifier keeps the caller on hold (its tracks audible to the caller only); this agent's
tracks are audible to the human only, and ``switchboard.handoff.warm_transfer`` keeps caller and
human unsubscribed from each other until the human accepts (DTMF 1, "accept"; 2 / "decline").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from livekit import rtc
from livekit.agents import JobContext

from switchboard.agents import attributes as attr
from switchboard.agents.briefing import BriefingDialogue, BriefingTurn, Decision
from switchboard.agents.config import DIAL_SETUP_SECONDS, AgentsConfig
from switchboard.agents.conversation import Conversation, Timer, spawn
from switchboard.agents.job_call import JobCall
from switchboard.agents.providers import providers_for_job
from switchboard.handoff import (
    Callee,
    TransferOutcome,
    WarmTransferResult,
    transfer_to_humans,
    warm_transfer_first,
)
from switchboard.tracing.steps import Step
from switchboard.vocabulary import (
    OutboundCallerResult,
    OutboundCallerState,
    TransferProgress,
)

logger = logging.getLogger("switchboard.agents")

HANDOFF_SPAN = "handoff"
"""The publisher's span kind for the brief and the accept (until connected)."""
GOODBYE_SECONDS = 4.0
"""How long the last line to the human may play before the agent leaves."""
INVITE_HEAD_START_SECONDS = 0.25
"""How long the briefing session's start waits after the dial starts: CreateSIPParticipant's
INVITE reaches the phone 50-190 ms after the request, 200-460 ms when the session's start holds
this loop meanwhile (bench_handoff). A ringing phone leaves the session seconds to start; with
one that answers at once the start may overlap the isolation at the answer, which only delays
the caller's ``can_subscribe`` going off: the human's audio exists ~1 s after the answer."""
_EXPLANATIONS = {
    TransferOutcome.DECLINED: "the human declined the call",
    TransferOutcome.NO_DECISION: (
        "the human answered but never accepted (voicemail, or nobody listening)"
    ),
    TransferOutcome.CALLER_LEFT: "the caller hung up while the human was being reached",
    TransferOutcome.HUMAN_LEFT: "the human hung up during the brief",
    TransferOutcome.ALL_BUSY: "every human was on another call as long as the caller could wait",
}


class WarmCall(JobCall):
    """One warm transfer, run by the outbound-caller inside the caller's room."""

    def _prepare(self) -> None:
        self._briefing = HumanBriefing(self._ctx, self._config, self._job.brief)
        self._briefing_for = ""
        self._briefing_started: asyncio.Future[None] | None = None

    def callees(self) -> list[Callee]:
        """The humans to ring: the job's ``humans`` (identities ``<callee>-1``...), or its one
        ``number``."""
        if not self._job.humans:
            job = self._job
            return [
                Callee(
                    self._callee,
                    job.number,
                    job.sip_trunk_id,
                    job.ringing_timeout_seconds,
                    job.display_name,
                    job.dial_deadline,
                )
            ]
        return [
            Callee(
                f"{self._callee}-{i}",
                h.number,
                h.sip_trunk_id,
                h.ring_seconds,
                h.display_name or self._job.display_name,
                h.ring_seconds + DIAL_SETUP_SECONDS,
            )
            for i, h in enumerate(self._job.humans, start=1)
        ]

    async def run(self) -> None:
        callees = self.callees()
        dialing = self._publisher.publish_soon(
            {
                attr.STATE: OutboundCallerState.DIALING,
                attr.TRANSFER: TransferProgress.DIALING,
                attr.CALLEE: callees[0].identity,
                attr.TARGET: self._job.target,
            }
        )
        # The briefing's session starts while the phone rings, not before the INVITE: its
        # start (100-300 ms of this loop) would otherwise be part of the caller's wait.
        self._start_briefing(callees[0].identity, after=INVITE_HEAD_START_SECONDS)
        try:
            result = await self._transfer(callees)
        finally:
            await dialing
        with contextlib.suppress(Exception):  # it failed: the brief, if any, said so
            await self._briefing_ready()
        await self._report(result)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._briefing.conversation.finish_speaking(), GOODBYE_SECONDS)
        self._ctx.shutdown(reason=f"warm transfer: {result.reason}")

    async def _transfer(self, callees: list[Callee]) -> WarmTransferResult:
        role = self._config.transfer.human.attribute
        attributes = {role.name: role.value} if role else None
        if not self._job.humans:  # one number: today's single warm transfer, no busy check
            return await warm_transfer_first(
                self._ctx.room,
                self._ctx.api,
                caller_identity=self._job.caller_identity,
                callees=callees,
                decide=self._brief,
                attributes=attributes,
                decision_timeout=self._job.decision_seconds,
                on_caller_left=self._tell_caller_left,
            )
        return await transfer_to_humans(
            self._ctx.room,
            self._ctx.api,
            caller_identity=self._job.caller_identity,
            callees=callees,
            ring=self._job.ring,
            decide=self._brief,
            busy_wait=self._job.busy_wait_seconds,
            attributes=attributes,
            decision_timeout=self._job.decision_seconds,
            on_caller_left=self._tell_caller_left,
        )

    def _start_briefing(self, identity: str, *, after: float = 0.0) -> None:
        """Start the briefing session listening to ``identity`` (who may still be ringing),
        ``after`` seconds from now."""
        self._briefing_for = identity
        self._briefing_started = asyncio.ensure_future(self._briefing.prepare(identity, after))

    async def _briefing_ready(self) -> None:
        if self._briefing_started is not None:
            await asyncio.shield(self._briefing_started)

    async def _prepare_briefing(self, identity: str) -> None:
        """A started briefing session listening to ``identity`` (a new one for each human)."""
        if self._briefing_for != identity:
            if self._briefing_for:
                with contextlib.suppress(Exception):
                    await self._briefing_ready()
                with contextlib.suppress(Exception):
                    await self._briefing.conversation.aclose()
                self._briefing = HumanBriefing(self._ctx, self._config, self._job.brief)
            self._start_briefing(identity)
        await self._briefing_ready()

    async def _tell_caller_left(self, human: rtc.RemoteParticipant) -> None:
        """The caller hung up during the brief: tell the human before they are hung up."""
        await self._prepare_briefing(human.identity)
        conversation = self._briefing.conversation
        await conversation.interrupt()
        conversation.say((self._config.outbound_caller.on_caller_left,), interruptible=False)
        await conversation.finish_speaking()

    async def _report(self, result: WarmTransferResult) -> None:
        timings = _relative_ms(result.timings)
        attempts = json.dumps(result.attempts, separators=(",", ":"))
        self._publisher.spans.enter(HANDOFF_SPAN, None)
        if result.outcome is TransferOutcome.CONNECTED:
            self._publisher.spans.mark(Step.CONNECTED)
            await self._publisher.publish(
                {
                    attr.STATE: OutboundCallerState.DONE,
                    attr.RESULT: OutboundCallerResult.ANSWERED,
                    attr.TRANSFER: TransferOutcome.CONNECTED,
                    attr.TIMINGS: timings,
                    attr.ATTEMPTS: attempts,
                }
            )
            return
        error = result.error
        explanation = str(error) if error is not None else _EXPLANATIONS[result.outcome]
        status = error.status_line if error is not None else ""
        await self._publisher.publish(
            attr.failure(result.reason, explanation, status)
            | {attr.TRANSFER: result.reason, attr.TIMINGS: timings, attr.ATTEMPTS: attempts}
        )
        logger.warning(
            "warm transfer failed",
            extra={"room": self._ctx.room.name, "outcome": result.reason, "error": explanation},
        )

    async def _brief(self, human: rtc.RemoteParticipant) -> bool | None:
        """Tell the human who is waiting; True when they accept, False/None otherwise."""
        await self._prepare_briefing(human.identity)
        await self._publisher.publish(
            {
                attr.STATE: OutboundCallerState.BRIEFING,
                attr.TRANSFER: TransferProgress.BRIEFING,
                attr.CALLEE: human.identity,
            }
        )
        self._publisher.spans.enter(HANDOFF_SPAN, Step.BRIEF)
        decision = await self._briefing.run(human)
        self._publisher.spans.enter(
            HANDOFF_SPAN, Step.ACCEPT if decision is Decision.ACCEPTED else None
        )
        if decision is Decision.ACCEPTED:
            await self._publisher.publish({attr.TRANSFER: TransferProgress.ACCEPTED})
            return True
        return False if decision is Decision.DECLINED else None


class HumanBriefing:
    """Plays the brief to the human and waits for accept / decline (keypad, text or speech)."""

    def __init__(self, ctx: JobContext, config: AgentsConfig, brief: str) -> None:
        self._config = config
        self._dialogue = BriefingDialogue(config.outbound_caller, brief)
        self._decided: asyncio.Future[Decision] = asyncio.get_running_loop().create_future()
        self._silence = Timer()
        self._lock = asyncio.Lock()
        self.conversation = Conversation(
            ctx,
            providers_for_job(config.speech, ctx.room.name),
            on_text=lambda text: self._step(lambda: self._dialogue.hear(text)),
            on_digit=lambda digit: self._step(lambda: self._dialogue.press(digit)),
            on_close=self._closed,
        )

    async def prepare(self, identity: str, after: float = 0.0) -> None:
        """Start listening for ``identity`` (maybe still ringing) ``after`` seconds from now.
        The brief is spoken, never sent as text: a transcript would reach the caller too (a
        browser caller would read it)."""
        await asyncio.sleep(after)
        await self.conversation.start_for(identity, sip=True, transcribe=False)

    async def run(self, human: rtc.RemoteParticipant) -> Decision:
        """Brief ``human`` (after ``prepare``) and wait for their decision."""
        await self._step(self._dialogue.start)
        try:
            return await self._decided
        finally:
            self._silence.cancel()

    async def _step(self, step: Callable[[], BriefingTurn]) -> None:
        async with self._lock:
            turn = step()
            self.conversation.say(turn.say)
            if turn.decision is not Decision.PENDING:
                self._silence.cancel()
                if not self._decided.done():
                    self._decided.set_result(turn.decision)
            elif turn.say:
                self._silence.arm(0, self._wait_for_answer)

    async def _wait_for_answer(self) -> None:
        await self.conversation.finish_speaking()
        await asyncio.sleep(self._config.timeouts.answer_seconds)
        spawn(self._step(self._dialogue.silence))

    async def _closed(self, _reason: str) -> None:
        if not self._decided.done():
            self._decided.set_result(Decision.UNCLEAR)


def _relative_ms(timings: dict[str, float]) -> str:
    """Step times as milliseconds after dialing started, as compact JSON."""
    start = timings.get("dialing", 0.0)
    return json.dumps(
        {step: round((at - start) * 1000) for step, at in timings.items()},
        separators=(",", ":"),
    )
