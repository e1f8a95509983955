"""``switchboard dev``: the whole system locally, in the foreground, stopped by Ctrl-C.

The LiveKit stack, the dispatcher (``switchboard serve``, which also serves the console and the
softphone), and both agents. Everything is started by this process and stopped with it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from switchboard.stack.config import StackConfig, free_port
from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack

DEV_API_KEY = "devkey"
DEV_API_SECRET = "switchboard-dev-secret-0123456789abcdef"
DEV_TOKEN_SECRET = "switchboard-dev-token-secret"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _progress(message: str) -> None:
    print(f"==> {message}", file=sys.stderr, flush=True)


def _switchboard(*args: str) -> list[str]:
    return [sys.executable, "-m", "switchboard.cli", *args]


def components(stack: Stack, service_port: int, rules: Path) -> list[ManagedProcess]:
    """The processes that run beside the stack: dispatcher + console, and the two agents."""
    logs = stack.state_dir
    env = {
        **stack.config.env(),
        "SWITCHBOARD_RULES": str(rules),
        "SWITCHBOARD_STORE_URL": f"sqlite+aiosqlite:///{logs / 'switchboard.db'}",
        "SWITCHBOARD_TOKEN_SECRET": DEV_TOKEN_SECRET,
    }
    dispatcher = ManagedProcess(
        name="dispatcher",
        argv=_switchboard("serve", "--port", str(service_port)),
        log_path=logs / "dispatcher.log",
        env=env,
    )
    agents = [
        ManagedProcess(
            name=f"agent-{name}",
            # --ignore-load: on a laptop running everything, CPU use above the server's
            # target_load (0.7) would otherwise make the server skip the worker silently.
            argv=_switchboard("agent", name, "--http-port", "0", "--ignore-load"),
            log_path=logs / f"agent-{name}.log",
            env=env,
        )
        for name in ("qualifier", "outbound-caller")
    ]
    return [dispatcher, *agents]


def run_dev(departure_timeout: int = 20, empty_timeout: int = 300) -> None:
    """Start the stack and every component; block until SIGINT/SIGTERM; stop everything."""
    service_port = free_port()
    rules = EXAMPLES / "rules" / "seed.yaml"
    config = StackConfig(
        api_key=DEV_API_KEY,
        api_secret=DEV_API_SECRET,
        departure_timeout=departure_timeout,
        empty_timeout=empty_timeout,
        webhook_urls=[f"http://127.0.0.1:{service_port}/livekit/webhook"],
    )
    stack = Stack.create("dev", config)
    stack.start(_progress)
    started: list[ManagedProcess] = []
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        for process in components(stack, service_port, rules):
            process.start()
            started.append(process)
            _progress(f"{process.name}: started (log {process.log_path})")
        started[0].wait_ready(lambda: _http_ok(service_port), timeout=60)
        _apply_sip_rules(stack, rules)
        _print_summary(config, service_port, rules)
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        for process in reversed(started):
            process.stop()
        stack.stop()
        _progress("stopped")


def _http_ok(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as response:
        return bool(response.status == 200)


def _apply_sip_rules(stack: Stack, rules: Path) -> None:
    """Compile the rules that can run natively into SIP dispatch rules (best effort in dev)."""
    result = subprocess.run(
        _switchboard("rules", "apply", "--sip", "--yes", "--rules", str(rules)),
        env={**os.environ, **stack.config.env()},
        capture_output=True,
        text=True,
        check=False,
    )
    outcome = "applied" if result.returncode == 0 else f"not applied: {result.stderr.strip()}"
    _progress(f"SIP dispatch rules from {rules.name}: {outcome}")


def _print_summary(config: StackConfig, service_port: int, rules: Path) -> None:
    base = f"http://127.0.0.1:{service_port}"
    for key, value in config.env().items():
        print(f"export {key}={value}", flush=True)
    print(
        f"# dispatcher  {base}/livekit/webhook  (rules: {rules})\n"
        f"# softphone   {base}/phone\n"
        f"# console     {base}/console?secret={DEV_TOKEN_SECRET}\n"
        f"# SIP         {config.sip_address}\n"
        "# Ctrl-C stops everything",
        flush=True,
    )
