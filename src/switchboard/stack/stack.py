"""A local LiveKit stack: redis, one or more livekit-server nodes and (optionally) livekit-sip.

With several nodes (``StackConfig.nodes``) they share the one Redis, LiveKit's own multi-node
mode; livekit-sip and ``config.url`` use node 1, and Redis routes each room to the node hosting it.

The same class backs ``switchboard stack up|down|status|logs`` (detached, state on disk) and the
pytest fixture (attached: every process dies with the test run).
"""

from __future__ import annotations

import json
import shutil
import socket
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.errors import StackError
from switchboard.stack.config import LiveKitNode, StackConfig
from switchboard.stack.install import Progress, cache_dir, ensure_installed
from switchboard.stack.process import ManagedProcess, pid_alive, stop_process_group

READY_TIMEOUT = 30.0


def stacks_root() -> Path:
    return cache_dir() / "stacks"


@dataclass
class Stack:
    """One running (or stopped) stack rooted at ``state_dir``."""

    config: StackConfig
    state_dir: Path
    processes: list[ManagedProcess] = field(default_factory=list)

    @classmethod
    def create(cls, name: str, config: StackConfig) -> Stack:
        state_dir = stacks_root() / name
        if state_dir.exists():
            shutil.rmtree(state_dir)
        state_dir.mkdir(parents=True)
        return cls(config=config, state_dir=state_dir)

    def start(self, progress: Progress, *, detach: bool = False) -> None:
        """Install what is missing, start every process, wait until each is ready."""
        binaries = ensure_installed(progress, with_sip=self.config.with_sip)
        try:
            self._start_redis(detach)
            for node in self.config.livekit_nodes:
                self._start_server(binaries["livekit-server"], node, detach)
            if self.config.with_sip:
                self._start_sip(binaries["livekit-sip"], detach)
        except BaseException:
            self.stop()
            raise
        self._save_state()
        progress(f"stack ready: {self.config.url}")

    def stop(self) -> None:
        """Stop everything this stack started, newest first."""
        for process in reversed(self.processes):
            process.stop()
        state = self.state_dir / "state.json"
        if state.exists():
            state.unlink()

    def log_path(self, name: str) -> Path:
        return self.state_dir / f"{name}.log"

    def process(self, name: str) -> ManagedProcess:
        """The running process called ``name`` (``redis``, ``livekit-server-2``, ...)."""
        for process in self.processes:
            if process.name == name:
                return process
        raise StackError(f"stack {self.state_dir.name} runs no process called {name!r}")

    def _start_redis(self, detach: bool) -> None:
        port = self.config.ports.redis
        redis = self._spawn(
            "redis",
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.state_dir),
            ],
            detach,
        )
        redis.wait_ready(lambda: _redis_ping(port), READY_TIMEOUT)

    def _start_server(self, binary: Path, node: LiveKitNode, detach: bool) -> None:
        config_path = self.state_dir / f"{node.name}.yaml"
        config_path.write_text(self.config.server_yaml(node))
        server = self._spawn(node.name, [str(binary), "--config", str(config_path)], detach)
        server.wait_ready(lambda: _http_ok(node.http_url), READY_TIMEOUT)

    def _start_sip(self, binary: Path, detach: bool) -> None:
        config_path = self.state_dir / "sip.yaml"
        config_path.write_text(self.config.sip_yaml())
        sip = self._spawn("livekit-sip", [str(binary), "--config", str(config_path)], detach)
        sip.wait_ready(lambda: _tcp_open(self.config.node_ip, self.config.ports.sip), READY_TIMEOUT)

    def _spawn(self, name: str, argv: list[str], detach: bool) -> ManagedProcess:
        process = ManagedProcess(name=name, argv=argv, log_path=self.log_path(name))
        process.start(detach=detach)
        self.processes.append(process)
        return process

    def _save_state(self) -> None:
        state = {
            "config": self.config.model_dump(),
            "pids": {p.name: p.pid for p in self.processes},
        }
        (self.state_dir / "state.json").write_text(json.dumps(state, indent=2))


@dataclass(frozen=True)
class StackStatus:
    name: str
    config: StackConfig
    alive: dict[str, bool]


def read_status(name: str) -> StackStatus | None:
    """The recorded state of a detached stack, or None when none is up under that name."""
    state_file = stacks_root() / name / "state.json"
    if not state_file.exists():
        return None
    state = json.loads(state_file.read_text())
    pids: dict[str, int] = state["pids"]
    return StackStatus(
        name=name,
        config=StackConfig.model_validate(state["config"]),
        alive={proc: pid_alive(pid) for proc, pid in pids.items()},
    )


def stop_detached(name: str) -> list[str]:
    """Stop a detached stack by its recorded pids; returns the names of what was stopped."""
    state_file = stacks_root() / name / "state.json"
    if not state_file.exists():
        return []
    pids: dict[str, int] = json.loads(state_file.read_text())["pids"]
    stopped = []
    for proc, pid in reversed(list(pids.items())):
        if pid_alive(pid):
            stop_process_group(pid, grace=5.0)
            stopped.append(proc)
    state_file.unlink()
    return stopped


@contextmanager
def running_stack(
    name: str, config: StackConfig, progress: Progress = lambda _msg: None
) -> Iterator[Stack]:
    """Start a stack for the duration of a ``with`` block; always stop it."""
    stack = Stack.create(name, config)
    stack.start(progress)
    try:
        yield stack
    finally:
        stack.stop()


def _redis_ping(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(16).startswith(b"+PONG")


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _tcp_open(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1):
        return True


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise StackError(f"'{name}' is not installed; run 'switchboard stack install'")
    return path
