"""``switchboard dev``: the whole system locally, in the foreground, stopped by Ctrl-C."""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

from switchboard.stack.config import StackConfig
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack

DEV_API_KEY = "devkey"
DEV_API_SECRET = "switchboard-dev-secret-0123456789abcdef"


def _progress(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def components(stack: Stack, logs: Path) -> list[ManagedProcess]:
    """The processes that run beside the stack (dispatcher, agents, console)."""
    env = stack.config.env()
    agents = ["qualifier", "outbound-caller"]
    return [
        ManagedProcess(
            name=f"agent-{agent}",
            argv=[sys.executable, "-m", "switchboard.cli", "agent", agent],
            log_path=logs / f"agent-{agent}.log",
            env=env,
        )
        for agent in agents
        if _agent_available()
    ]


def _agent_available() -> bool:
    try:
        import switchboard.agents.runner  # noqa: F401
    except ImportError:
        return False
    return True


def run_dev(departure_timeout: int = 20, empty_timeout: int = 300) -> None:
    """Start the stack and every component; block until SIGINT/SIGTERM; stop everything."""
    config = StackConfig(
        api_key=DEV_API_KEY,
        api_secret=DEV_API_SECRET,
        departure_timeout=departure_timeout,
        empty_timeout=empty_timeout,
    )
    stack = Stack.create("dev", config)
    stack.start(_progress)
    started: list[ManagedProcess] = []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for process in components(stack, stack.state_dir):
            process.start()
            started.append(process)
            _progress(f"{process.name}: started (log {process.log_path})")
        for key, value in config.env().items():
            print(f"export {key}={value}", flush=True)
        _progress("running; Ctrl-C stops everything")
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(started):
            process.stop()
        stack.stop()
        _progress("stopped")
