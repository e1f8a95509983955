"""``switchboard dev``: the service, the console and agents, against a local stack (``run_dev``)
or an existing LiveKit project (``run_remote``), until Ctrl-C."""

from switchboard.dev.local import run_dev
from switchboard.dev.remote import run_remote

__all__ = ["run_dev", "run_remote"]
