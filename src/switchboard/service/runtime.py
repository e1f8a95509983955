"""``ServiceRuntime``: the open store, the rules, the LiveKit client and the background loops.

``start()`` is idempotent, so an Azure Function (where lifespan may run late or not at all) can
call it on first use. In ``server`` mode it starts the dispatcher and reconciler loops; in
``function`` mode nothing runs in the background and each webhook drains its own jobs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from dataclasses import dataclass

from switchboard.aio import cancel_and_wait
from switchboard.livekit import LiveKitClient
from switchboard.rules import ReloadResult, RulesError, RulesHolder
from switchboard.service.caller_queue import CallerQueue
from switchboard.service.dispatcher import Dispatcher
from switchboard.service.intake import WebhookIntake
from switchboard.service.metrics import ServiceMetrics
from switchboard.service.reconciler import Reconciler
from switchboard.settings import Settings
from switchboard.store import Store

logger = logging.getLogger("switchboard.service")

RULES_CHECK_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class _Parts:
    """What a started runtime holds, built in one step, so none is ever half there."""

    store: Store
    client: LiveKitClient
    rules: RulesHolder
    dispatcher: Dispatcher
    reconciler: Reconciler
    callers: CallerQueue
    intake: WebhookIntake


class ServiceRuntime:
    """Everything one service instance holds; the ASGI app and the Azure Function share it."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metrics = ServiceMetrics()
        self.worker_id = settings.worker_id or (
            f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        )
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._parts: _Parts | None = None

    @property
    def started(self) -> bool:
        """True once ``start()`` succeeded."""
        return self._parts is not None

    async def start(self) -> None:
        """Check settings, load the rules, open the store; raise ``ConfigError``/``RulesError``/
        ``StoreError`` with the variable to fix."""
        async with self._lock:
            if self._parts is not None:
                return
            parts = self._parts = await self._open()
            settings = self.settings
            if settings.mode == "server":
                self._spawn(parts.dispatcher.run(), "dispatcher")
                self._spawn(parts.callers.run(), "caller-queue")
                if settings.reconcile_interval > 0:
                    self._spawn(parts.reconciler.run(on_repair=None), "reconciler")
                if settings.watchdog_seconds > 0:
                    self._spawn(parts.reconciler.run_watchdog(), "watchdog")
                self._spawn(parts.rules.watch(RULES_CHECK_SECONDS, _log_reload), "rules-watch")
            logger.info(
                "service started",
                extra={
                    "mode": settings.mode,
                    "worker": self.worker_id,
                    "rules": str(parts.rules.path),
                    "rule_count": len(parts.rules.rules),
                    "store": parts.store.url,
                    "livekit": settings.livekit_url,
                },
            )

    async def _open(self) -> _Parts:
        settings = self.settings
        settings.require_livekit()
        rules = RulesHolder(settings.require_rules())
        store = await Store.open(settings.store_url, pool_size=settings.store_pool_size)
        client = LiveKitClient(
            settings.livekit_url,
            settings.livekit_api_key,
            settings.livekit_api_secret.get_secret_value(),
        )
        dispatcher = Dispatcher(store, client, settings, self.metrics, self.worker_id)
        callers = CallerQueue(store, client, dispatcher.wake)
        intake = WebhookIntake(
            store,
            rules,
            settings.livekit_api_key,
            settings.livekit_api_secret.get_secret_value(),
            self._after_enqueue,
            on_step=self.metrics.observe_step,
            callers=callers,
        )
        reconciler = Reconciler(store, client, rules, settings, self.metrics)
        return _Parts(store, client, rules, dispatcher, reconciler, callers, intake)

    async def stop(self) -> None:
        """Cancel the loops and close the store and the LiveKit client."""
        async with self._lock:
            await cancel_and_wait(self._tasks)
            self._tasks.clear()
            parts, self._parts = self._parts, None
            if parts is not None:
                await parts.client.aclose()
                await parts.store.close()

    def _spawn(self, coroutine: object, name: str) -> None:
        assert asyncio.iscoroutine(coroutine)
        self._tasks.append(asyncio.create_task(coroutine, name=f"switchboard-{name}"))

    async def _after_enqueue(self) -> None:
        if self.settings.mode == "server":
            self.dispatcher.wake()
        else:
            await self.dispatcher.drain(self.settings.inline_budget_seconds)

    @property
    def _started(self) -> _Parts:
        assert self._parts is not None, "ServiceRuntime.start() first"
        return self._parts

    @property
    def store(self) -> Store:
        """The open store."""
        return self._started.store

    @property
    def client(self) -> LiveKitClient:
        """The LiveKit API client."""
        return self._started.client

    @property
    def rules(self) -> RulesHolder:
        """The rules in force (hot reloaded in server mode)."""
        return self._started.rules

    @property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher."""
        return self._started.dispatcher

    @property
    def reconciler(self) -> Reconciler:
        """The reconciler."""
        return self._started.reconciler

    @property
    def callers(self) -> CallerQueue:
        """The caller queue (admission control)."""
        return self._started.callers

    @property
    def intake(self) -> WebhookIntake:
        """The webhook intake."""
        return self._started.intake


def _log_reload(result: ReloadResult) -> None:
    if result.status == "reloaded":
        logger.info("rules reloaded", extra={"rule_count": len(result.rules)})
    elif isinstance(result.error, RulesError):
        logger.warning(
            "rules reload failed, the previous rules stay in force",
            extra={"error": str(result.error)},
        )
