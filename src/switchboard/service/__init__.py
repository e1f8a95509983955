"""The webhook service: an ASGI app that turns LiveKit webhooks into exactly-once dispatches."""

from switchboard.service.app import create_app
from switchboard.service.dispatcher import Dispatcher, DrainReport
from switchboard.service.reconciler import Reconciler, ReconcileReport
from switchboard.service.runtime import ServiceRuntime

__all__ = [
    "Dispatcher",
    "DrainReport",
    "ReconcileReport",
    "Reconciler",
    "ServiceRuntime",
    "create_app",
]
