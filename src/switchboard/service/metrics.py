"""Prometheus metrics of one service instance (its own registry, so instances never clash)."""

from __future__ import annotations

from typing import Final

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from switchboard.tracing.steps import Step

ACK_BUCKETS: Final = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
STEP_BUCKETS: Final = (
    0.001,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    1800.0,
)
"""Milliseconds (a webhook) to half an hour (a SIP leg)."""


class ServiceMetrics:
    """Counters and gauges for ``GET /metrics``."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.webhooks = Counter(
            "switchboard_webhooks",
            "Webhook requests by event type and outcome.",
            ["event", "outcome"],
            registry=self.registry,
        )
        self.ack_seconds = Histogram(
            "switchboard_webhook_ack_seconds",
            "Time from receiving a webhook to answering it.",
            buckets=ACK_BUCKETS,
            registry=self.registry,
        )
        self.dispatches = Counter(
            "switchboard_dispatches",
            "Dispatch job attempts by outcome.",
            ["outcome"],
            registry=self.registry,
        )
        self.queue_depth = Gauge(
            "switchboard_queue_depth",
            "Dispatch jobs not finished yet (refreshed on scrape).",
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "switchboard_dead_letters",
            "Dead-lettered dispatch jobs (refreshed on scrape, capped at 10000).",
            registry=self.registry,
        )
        self.step_seconds = Histogram(
            "switchboard_step_seconds",
            "Duration of each step of a call the service sees, by step (the span names).",
            ["step"],
            buckets=STEP_BUCKETS,
            registry=self.registry,
        )
        self.repairs = Counter(
            "switchboard_reconcile_repairs",
            "Dispatches enqueued by reconciliation.",
            registry=self.registry,
        )
        self.recoveries = Counter(
            "switchboard_watchdog_recoveries",
            "Stranded callers the watchdog acted on, by action (redispatch, overflow_agent, "
            "hang_up).",
            ["action"],
            registry=self.registry,
        )

    def observe_step(self, step: Step, seconds: float) -> None:
        """One step of a call took ``seconds`` (the duration of its span)."""
        self.step_seconds.labels(step=step.value).observe(max(0.0, seconds))

    def render(self) -> bytes:
        """The text exposition format."""
        return generate_latest(self.registry)
