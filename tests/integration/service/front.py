"""What the test stack posts webhooks to: a router in front of the two deployments under test.

Rooms named ``az-…`` go to the Azure Function, driven exactly as the Functions host drives it:
its registered HTTP handler called with an ``azure.functions.HttpRequest``. Every other room
goes to the ASGI service over real HTTP. Bodies and headers pass through untouched.
"""

from __future__ import annotations

import json
from typing import Any

import azure.functions as func
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from switchboard.service.azure import HTTP_FUNCTION, TIMER_FUNCTION, build_function_app
from switchboard.service.runtime import ServiceRuntime
from switchboard.settings import Settings
from tests.integration.service.harness import RunningService

AZURE_PREFIX = "az-"


class AzureFunctionHost:
    """Calls the function app's registered handlers like the Functions host does."""

    def __init__(self, settings: Settings) -> None:
        self.app = build_function_app(settings)
        functions = {f.get_function_name(): f.get_user_function() for f in self.app.get_functions()}
        self._http = functions[HTTP_FUNCTION]
        self._timer = functions[TIMER_FUNCTION]

    @property
    def runtime(self) -> ServiceRuntime:
        runtime: ServiceRuntime = self.app.runtime  # type: ignore[attr-defined]
        return runtime

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> func.HttpResponse:
        route, _, query = path.partition("?")
        params = dict(p.split("=", 1) for p in query.split("&") if "=" in p)
        request = func.HttpRequest(
            method=method,
            url=f"http://localhost:7071{path}",
            headers=headers or {},
            params=params,
            route_params={"route": route.lstrip("/")},
            body=body,
        )
        response: func.HttpResponse = await self._http(request, _Context())
        return response

    async def tick(self) -> None:
        """Fire the timer trigger once."""
        await self._timer(None)

    async def stop(self) -> None:
        if self.app.startup_task_done:
            await self.app.middleware.notify_shutdown()
            self.app.startup_task_done = False


class _Context:
    invocation_id = "test-invocation"
    function_name = HTTP_FUNCTION
    function_directory = ""
    thread_local_storage = None
    trace_context = None
    retry_context = None


class WebhookFront:
    """A uvicorn server routing the stack's webhooks (see the module docstring)."""

    def __init__(self, azure_settings: Settings, service_url: str, port: int) -> None:
        self.azure = AzureFunctionHost(azure_settings)
        self._service_url = service_url
        self._client = httpx.AsyncClient(timeout=30)
        self.forwarded: list[dict[str, Any]] = []
        self.drop_rooms: set[str] = set()
        """Rooms whose webhooks are answered 200 and dropped, as if lost on the way."""
        app = Starlette(routes=[Route("/livekit/webhook", self._route, methods=["POST"])])
        self._server = RunningService(app, port)

    async def start(self) -> None:
        await self._server.start()

    async def stop(self) -> None:
        await self._server.stop()
        await self.azure.stop()
        await self._client.aclose()

    async def _route(self, request: Request) -> Response:
        body = await request.body()
        headers = {
            key: value
            for key, value in request.headers.items()
            if key in ("authorization", "content-type")
        }
        try:
            room = json.loads(body).get("room", {}).get("name", "")
        except (ValueError, AttributeError):
            room = ""
        if room in self.drop_rooms:
            self.forwarded.append({"to": "dropped", "room": room, "status": 200})
            return Response(b"{}", status_code=200)
        if room.startswith(AZURE_PREFIX):
            answer = await self.azure.request("POST", "/livekit/webhook", body, headers)
            self.forwarded.append({"to": "azure", "room": room, "status": answer.status_code})
            return Response(answer.get_body(), status_code=answer.status_code)
        reply = await self._client.post(
            f"{self._service_url}/livekit/webhook", content=body, headers=headers
        )
        self.forwarded.append({"to": "service", "room": room, "status": reply.status_code})
        return Response(reply.content, status_code=reply.status_code)
