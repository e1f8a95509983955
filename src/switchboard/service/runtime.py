"""``ServiceRuntime``: the open store, the rules, the LiveKit client and the background loops.

``start()`` is idempotent, so an Azure Function (where lifespan may run late or not at all) can
call it on first use. In ``server`` mode it starts the dispatcher and reconciler loops; in
``function`` mode nothing runs in the background and each webhook drains its own jobs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket

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
        self._store: Store | None = None
        self._client: LiveKitClient | None = None
        self._rules: RulesHolder | None = None
        self._dispatcher: Dispatcher | None = None
        self._reconciler: Reconciler | None = None
        self._intake: WebhookIntake | None = None
        self._callers: CallerQueue | None = None

    @property
    def started(self) -> bool:
        """True once ``start()`` succeeded."""
        return self._intake is not None

    async def start(self) -> None:
        """Check settings, load the rules, open the store; raise ``ConfigError``/``RulesError``/
        ``StoreError`` with the variable to fix."""
        async with self._lock:
            if self.started:
                return
            settings = self.settings
            settings.require_livekit()
            rules = RulesHolder(settings.require_rules())
            store = await Store.open(settings.store_url)
            client = LiveKitClient(
                settings.livekit_url,
                settings.livekit_api_key,
                settings.livekit_api_secret.get_secret_value(),
            )
            self._store, self._client, self._rules = store, client, rules
            self._dispatcher = Dispatcher(store, client, settings, self.metrics, self.worker_id)
            self._reconciler = Reconciler(store, client, rules, settings, self.metrics)
            self._callers = CallerQueue(store, client, self._dispatcher.wake)
            self._intake = WebhookIntake(
                store,
                rules,
                settings.livekit_api_key,
                settings.livekit_api_secret.get_secret_value(),
                self._after_enqueue,
                on_step=self.metrics.observe_step,
                callers=self._callers,
            )
            if settings.mode == "server":
                self._spawn(self._dispatcher.run(), "dispatcher")
                self._spawn(self._callers.run(), "caller-queue")
                if settings.reconcile_interval > 0:
                    self._spawn(self._reconcile_loop(), "reconciler")
                if settings.watchdog_seconds > 0:
                    self._spawn(self._reconciler.run_watchdog(), "watchdog")
                self._spawn(rules.watch(RULES_CHECK_SECONDS, _log_reload), "rules-watch")
            logger.info(
                "service started mode=%s worker=%s rules=%s (%d rules) store=%s livekit=%s",
                settings.mode,
                self.worker_id,
                rules.path,
                len(rules.rules),
                store.url,
                settings.livekit_url,
            )

    async def stop(self) -> None:
        """Cancel the loops and close the store and the LiveKit client."""
        async with self._lock:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._tasks.clear()
            if self._client is not None:
                await self._client.aclose()
            if self._store is not None:
                await self._store.close()
            self._store = self._client = self._rules = None
            self._dispatcher = self._reconciler = None
            self._callers = None
            self._intake = None

    def _spawn(self, coroutine: object, name: str) -> None:
        assert asyncio.iscoroutine(coroutine)
        self._tasks.append(asyncio.create_task(coroutine, name=f"switchboard-{name}"))

    async def _reconcile_loop(self) -> None:
        await self.reconciler.run(on_repair=None)

    async def _after_enqueue(self) -> None:
        if self.settings.mode == "server":
            self.dispatcher.wake()
        else:
            await self.dispatcher.drain(self.settings.inline_budget_seconds)

    @property
    def store(self) -> Store:
        """The open store."""
        assert self._store is not None, "ServiceRuntime.start() first"
        return self._store

    @property
    def client(self) -> LiveKitClient:
        """The LiveKit API client."""
        assert self._client is not None, "ServiceRuntime.start() first"
        return self._client

    @property
    def rules(self) -> RulesHolder:
        """The rules in force (hot reloaded in server mode)."""
        assert self._rules is not None, "ServiceRuntime.start() first"
        return self._rules

    @property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher."""
        assert self._dispatcher is not None, "ServiceRuntime.start() first"
        return self._dispatcher

    @property
    def reconciler(self) -> Reconciler:
        """The reconciler."""
        assert self._reconciler is not None, "ServiceRuntime.start() first"
        return self._reconciler

    @property
    def callers(self) -> CallerQueue:
        """The caller queue (admission control)."""
        assert self._callers is not None, "ServiceRuntime.start() first"
        return self._callers

    @property
    def intake(self) -> WebhookIntake:
        """The webhook intake."""
        assert self._intake is not None, "ServiceRuntime.start() first"
        return self._intake


def _log_reload(result: ReloadResult) -> None:
    if result.status == "reloaded":
        logger.info("rules reloaded: %d rules", len(result.rules))
    elif isinstance(result.error, RulesError):
        logger.warning("rules reload failed, the previous rules stay in force: %s", result.error)
