"""The one way tests start ``switchboard serve``: the CLI in its own process, on a port of its own,
with a store (SQLite in the work directory unless given), awaited until it answers."""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from switchboard.stack.config import free_port
from switchboard.stack.process import ManagedProcess

READY_TIMEOUT = 60.0
"""Seconds ``serve`` gets to answer; a loaded two-core box needs ~10 s to import and connect."""


class Readiness(StrEnum):
    """The route that says ``serve`` is up."""

    READY = "/readyz"
    """The store and the LiveKit API both answer: for a service in front of a real stack."""
    ALIVE = "/healthz"
    """The process answers HTTP: for a service with no LiveKit behind it (function mode)."""


@dataclass(frozen=True)
class Served:
    """A ``switchboard serve`` process and where it listens and stores."""

    process: ManagedProcess
    port: int
    store_url: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answers(self, readiness: Readiness = Readiness.READY) -> bool:
        """True when ``readiness``'s route answers 200 now."""
        try:
            with urllib.request.urlopen(f"{self.url}{readiness}", timeout=2) as reply:
                return bool(reply.status == 200)
        except OSError:
            return False

    def wait_ready(
        self, readiness: Readiness = Readiness.READY, timeout: float = READY_TIMEOUT
    ) -> None:
        """Wait until ``readiness``'s route answers; stop the process if it never does."""
        try:
            self.process.wait_ready(lambda: self.answers(readiness), timeout)
        except BaseException:
            self.process.stop()
            raise

    def stop(self) -> None:
        self.process.stop()


def start_serve(
    env: Mapping[str, str],
    workdir: Path,
    rules: Path,
    *,
    port: int | None = None,
    store_url: str | None = None,
    extra_args: Sequence[str] = (),
    name: str = "serve",
    readiness: Readiness | None = Readiness.READY,
) -> Served:
    """Start ``switchboard serve --rules RULES`` (log ``workdir/NAME.log``) and wait until
    ``readiness``'s route answers (stopped if it never does; ``None``: do not wait).

    ``env`` is added to this process's environment; ``port`` defaults to a free one (pass it
    when livekit-server's webhook URL was fixed first); ``store_url`` defaults to
    ``workdir/switchboard.db``.
    """
    port = free_port() if port is None else port
    if store_url is None:
        store_url = f"sqlite+aiosqlite:///{workdir / 'switchboard.db'}"
    process = ManagedProcess(
        name=name,
        argv=[
            sys.executable,
            "-m",
            "switchboard.cli",
            "serve",
            "--port",
            str(port),
            "--rules",
            str(rules),
            "--store",
            store_url,
            *extra_args,
        ],
        log_path=workdir / f"{name}.log",
        env=dict(env),
    )
    process.start()
    served = Served(process, port, store_url)
    if readiness is not None:
        served.wait_ready(readiness)
    return served
