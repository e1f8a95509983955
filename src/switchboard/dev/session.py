"""What ``switchboard dev`` runs beside LiveKit: the service and the agents, until Ctrl-C.

Both modes (a local stack, or ``--remote`` against an existing project) start the same things
here: ``switchboard serve`` (webhook dispatcher + console + softphone) and agent workers, each
with its log file in the state directory, all stopped together, newest first.
"""

from __future__ import annotations

import json
import shlex
import signal
import sys
import threading
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.errors import ConfigError
from switchboard.stack.process import ManagedProcess

SERVICE_READY_TIMEOUT = 60.0


def progress(message: str) -> None:
    """One ``==>`` line on stderr."""
    print(f"==> {message}", file=sys.stderr, flush=True)


def switchboard_argv(*args: str) -> list[str]:
    """This interpreter running the ``switchboard`` command."""
    return [sys.executable, "-m", "switchboard.cli", *args]


def bundled_agent(name: str, state_dir: Path, env: Mapping[str, str]) -> ManagedProcess:
    """One shipped agent (``switchboard agent NAME``) as a worker."""
    return ManagedProcess(
        name=f"agent-{name}",
        # --ignore-load: on a laptop running everything, CPU use above the server's
        # target_load (0.7) would otherwise make the server skip the worker silently.
        argv=switchboard_argv("agent", name, "--http-port", "0", "--ignore-load"),
        log_path=state_dir / f"agent-{name}.log",
        env=dict(env),
    )


def agent_argv(command: str) -> list[str]:
    """An ``--agent`` command line as argv; ``ConfigError`` when it cannot be one."""
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise ConfigError(f"--agent {command!r}: {exc} (quote it like a shell line)") from None
    if not argv:
        raise ConfigError("--agent '': give the command that starts your agent worker")
    return argv


def user_agent(index: int, command: str, state_dir: Path, env: Mapping[str, str]) -> ManagedProcess:
    """The user's own worker command, run without a shell, in the current directory."""
    argv = agent_argv(command)
    script = next((a for a in argv[1:] if a.endswith(".py")), argv[0])
    label = f"{index}-{Path(script).stem}"
    return ManagedProcess(
        name=f"agent-{label}",
        argv=argv,
        log_path=state_dir / f"agent-{label}.log",
        env=dict(env),
    )


@dataclass
class DevSession:
    """The service on ``port`` and the agents; ``token_secret`` guards its console."""

    state_dir: Path
    service_env: dict[str, str]
    port: int
    token_secret: str
    agents: list[ManagedProcess] = field(default_factory=list)
    started: list[ManagedProcess] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the service, wait until it answers, then start the agents."""
        service = ManagedProcess(
            name="dispatcher",
            argv=switchboard_argv("serve", "--host", "127.0.0.1", "--port", str(self.port)),
            log_path=self.state_dir / "dispatcher.log",
            env={**self.service_env, "SWITCHBOARD_TOKEN_SECRET": self.token_secret},
        )
        self._start(service)
        service.wait_ready(self._healthy, timeout=SERVICE_READY_TIMEOUT)
        for agent in self.agents:
            self._start(agent)

    def _start(self, process: ManagedProcess) -> None:
        process.start()
        self.started.append(process)
        progress(f"{process.name}: started (log {process.log_path})")

    def stop(self) -> None:
        for process in reversed(self.started):
            process.stop()
        self.started.clear()

    def _healthy(self) -> bool:
        with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as response:
            return bool(response.status == 200)

    def login_link(self, next_path: str) -> str:
        """A one-time console login link (asked of the service with the secret, never shown)."""
        request = urllib.request.Request(
            f"{self.base_url}/console/api/login-link?next={next_path}",
            headers={"Authorization": f"Bearer {self.token_secret}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            url: str = json.loads(answer.read())["url"]
        return url

    def watch_agents(self, stop: threading.Event) -> None:
        """Say when each agent registers with LiveKit, and when one exits (with its log tail)."""
        registered: set[str] = set()
        exited: set[str] = set()
        while not stop.wait(0.5):
            for agent in self.agents:
                if agent.name not in registered and _registered(agent.log_path):
                    registered.add(agent.name)
                    progress(f"{agent.name}: registered with LiveKit")
                if agent.name not in exited and not agent.running():
                    exited.add(agent.name)
                    progress(f"{agent.name} exited; last log lines:\n{agent.tail(10)}")


def _registered(log: Path) -> bool:
    # livekit-agents logs this line once the server accepted the worker.
    return log.exists() and "registered worker" in log.read_text(errors="replace")


SIGNAL_CHECK_SECONDS = 0.5
"""How often the main thread wakes to run pending signal handlers while it waits."""


@contextmanager
def until_interrupted() -> Iterator[threading.Event]:
    """An event set by SIGINT (Ctrl-C) or SIGTERM.

    SIGINT gets a handler of its own rather than Python's KeyboardInterrupt: a process started
    as a background job of a script inherits SIGINT as "ignored", and Python then installs no
    handler for it, so Ctrl-C (or a test's SIGINT) would never reach us.
    """
    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield stop
    except KeyboardInterrupt:  # a Ctrl-C before the handler was in place
        pass
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def run_session(session: DevSession, announce: Callable[[DevSession], None]) -> None:
    """Start ``session``, print ``announce``, block until SIGINT/SIGTERM, stop everything."""
    with until_interrupted() as stop:
        try:
            session.start()
            announce(session)
            watcher = threading.Thread(target=session.watch_agents, args=(stop,), daemon=True)
            watcher.start()
            # Wake every half second: CPython runs a signal's handler only in the main thread,
            # and a process-directed SIGINT can land in the watcher thread instead, leaving a
            # main thread blocked in an untimed wait deaf to Ctrl-C (seen once in CI: 30 s).
            while not stop.wait(SIGNAL_CHECK_SECONDS):
                pass
        finally:
            stop.set()
            session.stop()
