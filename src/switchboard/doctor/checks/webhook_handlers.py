"""JS/TS webhook handlers (livekit-server-sdk): the mistakes of the handler the seed user got.

`WebhookReceiver.receive()` returns a Promise in livekit-server-sdk 2.x; a `WebhookEvent` has the
room at `event.room` (a `Room` with `name` and `sid`), not `event.data.room.id`; API clients take
the key and secret as arguments and otherwise rely on `LIVEKIT_API_KEY`/`LIVEKIT_API_SECRET`.
"""

from __future__ import annotations

from switchboard.doctor.findings import CheckCode, Finding, Severity
from switchboard.doctor.inventory import HandlerIssue, Inventory, Reference

ROOM_FROM_EVENT_DATA = CheckCode("SB305", "Webhook handler reads event.data.room")
RECEIVE_NOT_AWAITED = CheckCode("SB306", "Webhook handler does not await receive()")
CLIENT_WITHOUT_CREDENTIALS = CheckCode("SB307", "API client built without key and secret")


def _issues(inventory: Inventory, issue: HandlerIssue) -> list[Reference]:
    return [ref for ref in inventory.handler_issues if ref.name.startswith(issue.value)]


def check_room_from_event_data(inventory: Inventory) -> list[Finding]:
    """SB305: `event.data.room.id` is undefined; the room name is `event.room.name`."""
    return [
        ROOM_FROM_EVENT_DATA.finding(
            Severity.ERROR,
            "A WebhookEvent has no `data` field: `event.data.room` throws a TypeError (and a "
            "room has no `id` either), so the handler fails with 500 and never dispatches. The "
            "room is `event.room`, and the name every API call takes is `event.room.name` "
            "(`event.room.sid` is the RM_ id).",
            [f"{ref.source}: {ref.name}"],
            "Use `const roomName = event.room?.name;` (and skip events without a room).",
        )
        for ref in _issues(inventory, HandlerIssue.ROOM_FROM_DATA)
    ]


def check_receive_not_awaited(inventory: Inventory) -> list[Finding]:
    """SB306: `receiver.receive(...)` is async in livekit-server-sdk 2.x."""
    return [
        RECEIVE_NOT_AWAITED.finding(
            Severity.ERROR,
            "WebhookReceiver.receive() is async in livekit-server-sdk 2.x: without `await` the "
            "handler gets a Promise, `event.event` is undefined, no branch ever matches, and a "
            "bad signature becomes an unhandled rejection instead of an error the handler "
            "catches (so forged requests get 200).",
            [f"{ref.source}: {ref.name}"],
            "`const event = await receiver.receive(body, req.headers.authorization);` inside an "
            "async function, with the raw request body as a string.",
        )
        for ref in _issues(inventory, HandlerIssue.RECEIVE_NOT_AWAITED)
    ]


def check_client_without_credentials(inventory: Inventory) -> list[Finding]:
    """SB307: an API client given only the URL works only through the environment fallback."""
    return [
        CLIENT_WITHOUT_CREDENTIALS.finding(
            Severity.WARNING,
            f"{ref.name.split(': ', 1)[-1]} is built with the URL only. Its requests are signed "
            "with whatever LIVEKIT_API_KEY and LIVEKIT_API_SECRET hold in the process "
            "environment when the call is made; where they are unset or hold other names (an "
            "Azure Function with LIVEKIT_WEBHOOK_API_KEY, a .env not loaded) every call throws "
            "'api-key and api-secret must be set' and the dispatch never happens.",
            [f"{ref.source}: {ref.name}"],
            "Pass the credentials explicitly: `new AgentDispatchClient(process.env.LIVEKIT_URL, "
            "process.env.LIVEKIT_API_KEY, process.env.LIVEKIT_API_SECRET)`.",
        )
        for ref in _issues(inventory, HandlerIssue.CLIENT_WITHOUT_CREDENTIALS)
    ]
