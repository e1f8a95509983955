"""The service as an Azure Function (Python v2 model): the same ASGI app, plus a timer.

A Function has no long-running loop, so in ``function`` mode each webhook drains the jobs it
enqueued before answering (within ``SWITCHBOARD_INLINE_BUDGET_SECONDS``), and the timer runs
one dispatcher drain and one reconciliation pass (retries and repairs).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final

import azure.functions as func

from switchboard.service.app import create_app
from switchboard.service.dispatcher import DrainReport
from switchboard.service.reconciler import ReconcileReport
from switchboard.service.runtime import ServiceRuntime
from switchboard.settings import Settings

logger = logging.getLogger("switchboard.azure")

HTTP_FUNCTION: Final = "http_app_func"
TIMER_FUNCTION: Final = "maintain"
DEFAULT_SCHEDULE: Final = "*/30 * * * * *"


@dataclass(frozen=True, slots=True)
class MaintenanceReport:
    """What one timer run did."""

    drained: DrainReport
    reconciled: ReconcileReport
    repaired: DrainReport


async def run_maintenance(runtime: ServiceRuntime) -> MaintenanceReport:
    """Drain due jobs (retries), reconcile, then dispatch what reconciliation enqueued."""
    await runtime.start()
    budget = runtime.settings.inline_budget_seconds
    drained = await runtime.dispatcher.drain(budget)
    reconciled = await runtime.reconciler.reconcile_once()
    repaired = await runtime.dispatcher.drain(budget)
    logger.info(
        "maintenance",
        extra={
            "drained": drained.outcomes,
            "reconciled_rooms": reconciled.rooms,
            "repairs": reconciled.repairs,
            "repaired": repaired.outcomes,
        },
    )
    return MaintenanceReport(drained, reconciled, repaired)


def build_function_app(
    settings: Settings, *, schedule: str = DEFAULT_SCHEDULE
) -> func.AsgiFunctionApp:
    """An ``AsgiFunctionApp`` serving every route anonymously (the webhook checks LiveKit's
    signature, /token and /api the shared secret) and a timer-triggered ``maintain``."""
    if settings.mode != "function":
        settings = settings.model_copy(update={"mode": "function"})
    app = create_app(settings)
    runtime: ServiceRuntime = app.state.runtime
    function_app = func.AsgiFunctionApp(app=app, http_auth_level=func.AuthLevel.ANONYMOUS)

    @function_app.function_name(name=TIMER_FUNCTION)
    @function_app.timer_trigger(schedule=schedule, arg_name="timer", run_on_startup=False)
    async def maintain(timer: func.TimerRequest) -> None:
        await run_maintenance(runtime)

    function_app.runtime = runtime  # type: ignore[attr-defined]
    return function_app
