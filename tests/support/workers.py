"""Real livekit-agents worker processes, started against a real stack and always stopped."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from switchboard.stack.process import ManagedProcess
from switchboard.stack.stack import Stack

PROBE_WORKER = Path(__file__).with_name("probe_worker.py")


@dataclass
class WorkerPool:
    """One worker process per agent name; "" is the unnamed (automatic dispatch) worker."""

    processes: dict[str, ManagedProcess]
    job_log: Path
    proc_log: Path | None = None

    def jobs(self, room: str | None = None) -> list[dict[str, Any]]:
        records = _records(self.job_log)
        return [r for r in records if room is None or r["room"] == room]

    def warm_processes(self, name: str) -> list[int]:
        """Pids of ``name``'s job processes that are initialized, alive and have had no job.

        livekit-agents registers a worker, and the server offers it jobs, whether or not it has
        such a process; a job that finds none waits until one is spawned and initialized.
        """
        label = name or "unnamed"
        used = {job.get("pid") for job in _records(self.job_log)}
        ready = _records(self.proc_log) if self.proc_log else []
        return [
            r["pid"]
            for r in ready
            if r["label"] == label and r["pid"] not in used and _alive(r["pid"])
        ]

    def wait_warm_blocking(self, names: list[str] | None = None, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        for name in self.processes if names is None else names:
            while not self.warm_processes(name):
                self._check_running(name, deadline, timeout)
                time.sleep(0.2)

    async def wait_warm(self, names: list[str] | None = None, timeout: float = 120.0) -> None:
        """Wait until each worker in ``names`` (default: all) has a warm job process, so a job
        dispatched now starts at once instead of waiting for a process to be spawned."""
        deadline = time.monotonic() + timeout
        for name in self.processes if names is None else names:
            while not self.warm_processes(name):
                self._check_running(name, deadline, timeout)
                await asyncio.sleep(0.2)

    def _check_running(self, name: str, deadline: float, timeout: float) -> None:
        process = self.processes[name]
        if not process.running():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"{process.name} has no warm job process after {timeout}s:\n{process.tail()}"
            )

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()


def start_probe_workers(
    stack: Stack,
    names: list[str],
    workdir: Path,
    loads: dict[str, float] | None = None,
    extra_env: dict[str, str] | None = None,
) -> WorkerPool:
    job_log = workdir / "jobs.jsonl"
    proc_log = workdir / "procs.jsonl"
    processes: dict[str, ManagedProcess] = {}
    for name in names:
        label = name or "unnamed"
        env = {
            **stack.config.env(),
            "PROBE_AGENT_NAME": name,
            "PROBE_LABEL": label,
            "PROBE_JOB_LOG": str(job_log),
            "PROBE_PROC_LOG": str(proc_log),
            "PROBE_LOAD": str((loads or {}).get(name, 0.0)),
        }
        # An inherited name would silently turn the unnamed worker into a named one.
        env.update({"LIVEKIT_AGENT_NAME": "", "LIVEKIT_AGENT_NAME_OVERRIDE": ""})
        env.update(extra_env or {})
        process = ManagedProcess(
            name=f"worker-{label}",
            argv=[sys.executable, "-m", "livekit.agents", "start", str(PROBE_WORKER)],
            log_path=workdir / f"worker-{label}.log",
            env=env,
        )
        process.start()
        processes[name] = process
    pool = WorkerPool(processes, job_log, proc_log)
    try:
        for process in processes.values():
            wait_registered(process)
        # Registered is not ready: under load the worker registers before its first job
        # process is initialized, and a job offered then waits for one
        # (docs/livekit-semantics.md, "Ready").
        pool.wait_warm_blocking()
    except BaseException:
        pool.stop()  # a worker that failed to start must not outlive the test
        raise
    return pool


def _records(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def wait_registered(process: ManagedProcess, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.log_path.exists() and "registered worker" in process.log_path.read_text(
            errors="replace"
        ):
            return
        if not process.running():
            raise RuntimeError(f"{process.name} exited:\n{process.tail()}")
        time.sleep(0.2)
    raise RuntimeError(f"{process.name} did not register in {timeout}s:\n{process.tail()}")
