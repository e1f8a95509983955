"""One child process of the stack: started with its own log, awaited until ready, always stopped."""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from switchboard.errors import StackError

_PR_SET_PDEATHSIG = 1

# Process groups started by this process, so a test run can prove it left nothing behind.
started_process_groups: list[int] = []


def _die_with_parent() -> None:
    """Ask the kernel to SIGTERM the child when its parent dies, so a killed test run leaks none."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


@dataclass
class ManagedProcess:
    """A named process whose output goes to ``log_path``."""

    name: str
    argv: Sequence[str]
    log_path: Path
    env: dict[str, str] = field(default_factory=dict)
    pid: int | None = None
    _popen: subprocess.Popen[bytes] | None = None

    def start(self, *, detach: bool = False) -> None:
        """Start in a new session; unless detached, the child dies with this process."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        try:
            self._popen = subprocess.Popen(
                list(self.argv),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, **self.env},
                start_new_session=True,
                preexec_fn=None if detach else _die_with_parent,
            )
        except OSError as exc:
            raise StackError(f"cannot start {self.name} ({self.argv[0]}): {exc}") from exc
        finally:
            log.close()
        self.pid = self._popen.pid
        started_process_groups.append(self.pid)

    def running(self) -> bool:
        if self._popen is not None:
            return self._popen.poll() is None
        return self.pid is not None and pid_alive(self.pid)

    def wait_ready(self, probe: Callable[[], bool], timeout: float) -> None:
        """Poll ``probe`` until it is true; fail with the process's last log lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.running():
                raise StackError(
                    f"{self.name} exited during start-up; last log lines:\n{self.tail()}"
                )
            with contextlib.suppress(OSError):
                if probe():
                    return
            time.sleep(0.1)
        raise StackError(
            f"{self.name} not ready after {timeout:.0f}s; last log lines:\n{self.tail()}"
        )

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the process group, SIGKILL it after ``grace`` seconds."""
        if self.pid is None:
            return
        stop_process_group(self.pid, grace)
        if self._popen is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._popen.wait(timeout=1)

    def tail(self, lines: int = 30) -> str:
        if not self.log_path.exists():
            return "(no log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(text[-lines:])


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return not _is_zombie(pid)


def _is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def stop_process_group(pid: int, grace: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def group_alive(pgid: int) -> bool:
    """True while any process of the group (the leader or a child it forked) is alive."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[-1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False
