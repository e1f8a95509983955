"""A private consultation inside the caller's room, for servers without MoveParticipant.

Two controls keep the caller and the human apart until ``connect()``:

* Client-side track permissions (``only_heard_by``): an agent restricts who may subscribe to
  its own tracks — the consulting agent to the human, the holding agent to the caller.
* Server-side ``RoomService.UpdateSubscriptions``: the caller is unsubscribed from the human's
  tracks and the human from the caller's. SIP participants subscribe on their own (livekit-sip
  subscribes to every audio track once its call is up), so this has to happen from outside, and
  again right after the human answers, when livekit-sip subscribes the human to everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Collection, Coroutine, Mapping
from typing import Any

from livekit import api, rtc

from switchboard.vocabulary import LiveKitAttribute, SipCallStatus

logger = logging.getLogger("switchboard.handoff")

REISOLATE_SECONDS = (0.0, 0.2, 0.6, 1.5)
"""When to (re)isolate after either of them publishes audio or the human answers: livekit-sip
subscribes its participant on its own — the caller to each new track, the human to everything
right after ``sip.callStatus=active`` — and those requests may reach the server after ours."""


def only_heard_by(room: rtc.Room, identities: Collection[str]) -> None:
    """Only ``identities`` may subscribe to this participant's tracks, present and future."""
    room.local_participant.set_track_subscription_permissions(
        allow_all_participants=False,
        participant_permissions=[
            rtc.ParticipantTrackPermission(participant_identity=identity, allow_all=True)
            for identity in identities
        ],
    )


def heard_by_all(room: rtc.Room) -> None:
    """Lift ``only_heard_by``."""
    if room.isconnected():
        room.local_participant.set_track_subscription_permissions(allow_all_participants=True)


class Consultation:
    """Keeps ``caller`` and ``human`` in ``room`` from hearing each other until ``connect()``."""

    def __init__(self, lkapi: api.LiveKitAPI, room: rtc.Room, *, caller: str, human: str) -> None:
        self._lkapi = lkapi
        self._room = room
        self._caller = caller
        self._human = human
        self._watching = False
        self._tasks: set[asyncio.Task[None]] = set()
        self.connected_at: float | None = None

    def start(self) -> None:
        """Isolate now and whenever either of them publishes audio or the human answers."""
        if self._watching:
            return
        self._watching = True
        self._room.on("track_published", self._on_track_published)
        self._room.on("participant_attributes_changed", self._on_attributes_changed)
        self._spawn(self.isolate())

    async def isolate(self) -> None:
        """Unsubscribe each of the two from the other's audio (what is known of it now)."""
        await self._set_subscribed(False)

    async def set_caller_hearing(self, hearing: bool) -> None:
        """Server-side ``can_subscribe`` of the caller: off, the caller receives no audio at all
        (its other permissions are kept); back on, the server resubscribes it to what it wants,
        less what ``isolate`` took away (livekit ``ParticipantImpl.SetPermission``)."""
        request = api.RoomParticipantIdentity(room=self._room.name, identity=self._caller)
        info = await self._lkapi.room.get_participant(request)
        permission = api.ParticipantPermission()
        permission.CopyFrom(info.permission)
        permission.can_subscribe = hearing
        await self._lkapi.room.update_participant(
            api.UpdateParticipantRequest(
                room=self._room.name, identity=self._caller, permission=permission
            )
        )

    async def isolate_once_audible(self, within: float = 5.0, interval: float = 0.05) -> bool:
        """Wait for the human's audio track to be published, then isolate at once.

        Call it before the brief starts: speaking keeps an agent's loop busy (we measured
        3.4 s stalls in livekit-agents' transcription timing on a loaded machine), and the
        caller must be unsubscribed before the track's first audio reaches them. Returns
        False if no audio track appeared ``within`` seconds.
        """
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            with contextlib.suppress(api.TwirpError):
                if (await self._audio_tracks()).get(self._human):
                    await self.isolate()
                    return True
            await asyncio.sleep(interval)
        return False

    async def connect(self) -> None:
        """Let the two hear each other; stop isolating. Raises ``api.TwirpError`` on failure."""
        self.close()
        await self._set_subscribed(True, strict=True)
        self.connected_at = time.monotonic()
        logger.info(
            "consultation connected",
            extra={"room": self._room.name, "caller": self._caller, "human": self._human},
        )

    def close(self) -> None:
        """Stop watching (the human hung up, or they were connected)."""
        if not self._watching:
            return
        self._watching = False
        self._room.off("track_published", self._on_track_published)
        self._room.off("participant_attributes_changed", self._on_attributes_changed)
        for task in self._tasks:
            task.cancel()

    def _on_track_published(
        self, publication: rtc.RemoteTrackPublication, participant: rtc.RemoteParticipant
    ) -> None:
        if participant.identity in (self._caller, self._human) and (
            publication.kind == rtc.TrackKind.KIND_AUDIO
        ):
            self._spawn(self._isolate_repeatedly())

    def _on_attributes_changed(
        self, changed: Mapping[str, str], participant: rtc.Participant
    ) -> None:
        if (
            participant.identity == self._human
            and changed.get(LiveKitAttribute.SIP_CALL_STATUS) == SipCallStatus.ACTIVE
        ):
            self._spawn(self._isolate_repeatedly())

    async def _isolate_repeatedly(self) -> None:
        started = time.monotonic()
        for at in REISOLATE_SECONDS:
            await asyncio.sleep(max(0.0, started + at - time.monotonic()))
            await self.isolate()

    async def _audio_tracks(self) -> dict[str, list[str]]:
        """The audio tracks the caller and the human publish, as the server knows them (the
        server learns of a track before this client's event for it arrives)."""
        response = await self._lkapi.room.list_participants(
            api.ListParticipantsRequest(room=self._room.name)
        )
        return {
            p.identity: [t.sid for t in p.tracks if t.type == api.TrackType.AUDIO]
            for p in response.participants
            if p.identity in (self._caller, self._human)
        }

    async def _set_subscribed(self, subscribe: bool, *, strict: bool = False) -> None:
        try:
            tracks = await self._audio_tracks()
        except api.TwirpError as exc:
            logger.warning(
                "could not list participants", extra={"room": self._room.name, "error": str(exc)}
            )
            if strict:
                raise
            return
        pairs = ((self._caller, self._human), (self._human, self._caller))
        requests = [
            api.UpdateSubscriptionsRequest(
                room=self._room.name,
                identity=listener,
                track_sids=tracks[speaker],
                subscribe=subscribe,
            )
            for listener, speaker in pairs
            if listener in tracks and tracks.get(speaker)
        ]
        results = await asyncio.gather(
            *(self._lkapi.room.update_subscriptions(r) for r in requests), return_exceptions=True
        )
        for request, result in zip(requests, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning(
                    "could not update subscriptions",
                    extra={
                        "room": self._room.name,
                        "identity": request.identity,
                        "subscribe": subscribe,
                        "error": str(result),
                    },
                )
                if strict:
                    raise result

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
