"""``create_app(settings)``: the Starlette app (webhook, token, health, metrics, decisions API)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from switchboard import console
from switchboard.service import routes
from switchboard.service.runtime import ServiceRuntime
from switchboard.service.token import token
from switchboard.service.webhook import webhook
from switchboard.settings import Settings


def create_app(settings: Settings, runtime: ServiceRuntime | None = None) -> Starlette:
    """The ASGI app. Its lifespan opens the store and, in ``server`` mode, runs the dispatcher
    and reconciler loops; ``app.state.runtime`` is the ``ServiceRuntime``."""
    service = runtime or ServiceRuntime(settings)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = Starlette(
        routes=[
            Route("/livekit/webhook", webhook, methods=["POST"]),
            Route("/token", token, methods=["POST"]),
            Route("/healthz", routes.healthz, methods=["GET"]),
            Route("/readyz", routes.readyz, methods=["GET"]),
            Route("/metrics", routes.metrics, methods=["GET"]),
            Route("/api/decisions", routes.decisions, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.routes.extend(
        console.routes(
            console.ConsoleDeps.from_settings(
                settings, store=lambda: service.store, rules=lambda: service.rules.rules
            )
        )
    )
    app.state.runtime = service
    return app
