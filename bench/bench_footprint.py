"""Benchmark: what a Switchboard process costs before it does anything: cold import and memory.

Run: ``.venv/bin/python bench/bench_footprint.py [--runs 10] [--readme]`` (no servers; about a
minute). Every figure comes from fresh interpreters of the project's venv, with bytecode caching
on (a warm-up run writes the ``.pyc`` files first, as an installed wheel ships them):

- **cold import**: ``import function_app`` in ``azure/`` (the Azure Function's whole start:
  ``azure.functions``, the settings, the Starlette app with its store, LiveKit client and
  rules), timed inside the interpreter, median and worst of ``--runs``; the baseline, in
  alternation with it, is ``import azure.functions`` alone (what any Python function pays).
- **where the import time goes**: ``-X importtime`` of one run, self time summed per top-level
  package.
- **serve, idle**: ``switchboard serve`` on SQLite with a one-line rules file, resident memory
  (VmRSS) once ``/healthz`` answers; the baseline is a bare interpreter's.
- **where the memory goes**: the resident memory after importing each group of libraries in
  turn, in the order the service needs them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchkit import replace_section, table

ROOT: Final = Path(__file__).resolve().parents[1]
PYTHON: Final = sys.executable
SWITCHBOARD: Final = Path(PYTHON).with_name("switchboard")
SECTION: Final = "## Footprint: cold import and memory (bench/bench_footprint.py)"
PORT: Final = 18731
SERVE_READY_SECONDS: Final = 60.0
IMPORT_GOAL_SECONDS: Final = 0.3
IDLE_GOAL_MIB: Final = 60
TIMED_IMPORT: Final = (
    "import time; started = time.perf_counter(); import {module}; "
    "print(time.perf_counter() - started)"
)
# The service's libraries in the order it needs them; each row's RSS includes the rows above.
MEMORY_GROUPS: Final = (
    ("interpreter", ()),
    ("pydantic, PyYAML (settings, rules)", ("pydantic", "yaml")),
    ("Starlette, uvicorn", ("starlette.applications", "uvicorn")),
    ("SQLAlchemy, asyncpg, aiosqlite (store)", ("sqlalchemy.ext.asyncio", "asyncpg", "aiosqlite")),
    ("aiohttp, livekit-api (LiveKit client)", ("aiohttp", "livekit.api")),
    ("OpenTelemetry, prometheus-client", ("opentelemetry.trace", "prometheus_client")),
    ("typer, rich (CLI)", ("typer", "rich.console")),
    ("switchboard's service app", ("switchboard.cli", "switchboard.service.app")),
)


def environment() -> dict[str, str]:
    """This process's environment with bytecode caching on, as a deployed service has it."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def run_python(code: str, cwd: Path = ROOT, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, *extra, "-c", code],
        cwd=cwd,
        env=environment(),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )


def timed_import(module: str, cwd: Path) -> float:
    return float(run_python(TIMED_IMPORT.format(module=module), cwd).stdout.split()[-1])


@dataclass(frozen=True)
class Timings:
    app: list[float]
    baseline: list[float]


def measure_imports(runs: int) -> Timings:
    """``import function_app`` and ``import azure.functions`` in alternation, fresh each time."""
    azure = ROOT / "azure"
    timed_import("function_app", azure)  # warm-up: writes the bytecode caches
    app: list[float] = []
    baseline: list[float] = []
    for _ in range(runs):
        app.append(timed_import("function_app", azure))
        baseline.append(timed_import("azure.functions", azure))
    return Timings(app, baseline)


def import_breakdown() -> list[tuple[str, float]]:
    """Self import time per top-level package, seconds, largest first."""
    result = run_python("import function_app", ROOT / "azure", "-X", "importtime")
    per_package: defaultdict[str, float] = defaultdict(float)
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "|" not in line:
            continue
        own, _cumulative, name = line.removeprefix("import time:").split("|")
        if not own.strip().isdigit():
            continue  # the header line
        per_package[name.strip().split(".")[0]] += int(own) / 1e6
    return sorted(per_package.items(), key=lambda item: item[1], reverse=True)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def memory_by_group() -> list[tuple[str, float]]:
    """Resident MiB after each group of imports, in one fresh interpreter."""
    steps = "\n".join(
        f"for module in {list(modules)!r}: importlib.import_module(module)\n"
        f"print({label!r}, '|', rss())"
        for label, modules in MEMORY_GROUPS
    )
    code = (
        "import importlib\n"
        "def rss():\n"
        "    status = open('/proc/self/status').read()\n"
        "    return int(status.split('VmRSS:')[1].split()[0]) / 1024\n" + steps
    )
    rows = []
    for line in run_python(code).stdout.splitlines():
        label, mib = line.rsplit("|", 1)
        rows.append((label.strip(), float(mib)))
    return rows


def serve_idle_mib() -> float:
    """``switchboard serve`` on SQLite, resident MiB once it answers ``/healthz``."""
    with tempfile.TemporaryDirectory(prefix="sb-footprint-") as directory:
        workdir = Path(directory)
        (workdir / "rules.yaml").write_text("version: 1\ndefault: nobody\nrules: []\n")
        env = environment() | {
            "LIVEKIT_URL": "http://127.0.0.1:7880",  # never called while idle
            "LIVEKIT_API_KEY": "footprint",
            "LIVEKIT_API_SECRET": "footprint-secret-footprint-secret",
            "SWITCHBOARD_RULES": str(workdir / "rules.yaml"),
            "SWITCHBOARD_STORE_URL": f"sqlite+aiosqlite:///{workdir / 'store.db'}",
        }
        with subprocess.Popen(
            [str(SWITCHBOARD), "serve", "--host", "127.0.0.1", "--port", str(PORT)],
            cwd=workdir,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        ) as serve:
            try:
                wait_healthy(serve)
                time.sleep(2.0)  # let start-up garbage settle
                return rss_mib(serve.pid)
            finally:
                serve.terminate()
                serve.wait(timeout=30)


def wait_healthy(serve: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + SERVE_READY_SECONDS
    while time.monotonic() < deadline:
        if serve.poll() is not None:
            raise RuntimeError(f"switchboard serve exited with {serve.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"switchboard serve did not answer /healthz in {SERVE_READY_SECONDS} s")


def bare_interpreter_mib() -> float:
    with subprocess.Popen([PYTHON, "-c", "import time; time.sleep(30)"], env=environment()) as bare:
        try:
            time.sleep(1.0)
            return rss_mib(bare.pid)
        finally:
            bare.kill()


LIMITS: Final = """What limits each, and what was done:
* **Cold import.** The libraries the app needs to answer its first webhook (SQLAlchemy,
  aiohttp under livekit-api, PyYAML, pydantic) and `azure.functions` itself take most of it;
  our own modules' share is mostly pydantic building the rules and settings models. Removed so
  far: `livekit.rtc` (the console's dial route imports the hand-off when called) and Alembic (a
  store whose schema is current opens with one query and never imports it; ~0.15 s and ~10 MiB).
  Deferring the store and the LiveKit client to the first request would meet the 0.3 s import
  goal on paper but not what a user feels: the first webhook would pay the same time, and an
  Azure plan with pre-warmed instances imports `function_app` before any request arrives, where
  module-level imports cost nothing. The goal is not met; the remaining floor is these
  libraries.
* **Idle memory.** The same libraries: the store's SQLAlchemy and drivers are the largest part,
  then Starlette with uvicorn and aiohttp with livekit-api. 60 MiB would mean dropping
  SQLAlchemy (the store's one path for SQLite and PostgreSQL) or running the webhook service
  without the console; neither is worth it for about 40 MiB per replica. Not met.
"""


def render(
    timings: Timings,
    breakdown: list[tuple[str, float]],
    idle: float,
    bare: float,
    groups: list[tuple[str, float]],
    elapsed: float,
) -> str:
    app_median = statistics.median(timings.app)
    base_median = statistics.median(timings.baseline)
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    summary = table(
        ["figure", "median", "worst", "baseline (same run)", "ratio", "goal", "met"],
        [
            [
                "`import function_app`, s",
                f"{app_median:.3f}",
                f"{max(timings.app):.3f}",
                f"{base_median:.3f} (`import azure.functions`)",
                f"{app_median / base_median:.1f}×",
                f"≤ {IMPORT_GOAL_SECONDS} s",
                "yes" if app_median <= IMPORT_GOAL_SECONDS else "no",
            ],
            [
                "`switchboard serve` idle, MiB resident",
                f"{idle:.0f}",
                "–",
                f"{bare:.0f} (bare interpreter)",
                f"{idle / bare:.1f}×",
                f"≤ {IDLE_GOAL_MIB} MiB",
                "yes" if idle <= IDLE_GOAL_MIB else "no",
            ],
        ],
    )
    top = [(name, seconds) for name, seconds in breakdown if seconds >= 0.01]
    import_rows = [[name, f"{seconds * 1000:.0f}"] for name, seconds in top]
    imports = table(["package", "own import time, ms"], import_rows)
    previous = 0.0
    memory_rows = []
    for label, mib in groups:
        memory_rows.append([label, f"{mib:.0f}", f"+{mib - previous:.0f}" if previous else "–"])
        previous = mib
    memory = table(["after importing", "resident MiB", "added"], memory_rows)
    return (
        f"{SECTION}\n\n"
        f"`.venv/bin/python bench/bench_footprint.py --runs {len(timings.app)}` ({elapsed:.0f} s; "
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, load "
        f"average at the end {load}; {when}). Fresh interpreters, bytecode caches written by a "
        "warm-up run.\n\n"
        f"{summary}\n\n"
        "Where `import function_app`'s time goes (one run, `-X importtime`, own time per "
        "top-level package, ≥ 10 ms):\n\n"
        f"{imports}\n\n"
        "Where the service's memory goes (one interpreter importing each group in turn):\n\n"
        f"{memory}\n\n"
        f"{LIMITS}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="timed imports of each kind")
    parser.add_argument("--readme", action="store_true", help="write the bench/README.md section")
    args = parser.parse_args()
    started = time.perf_counter()
    timings = measure_imports(args.runs)
    breakdown = import_breakdown()
    bare = bare_interpreter_mib()
    idle = serve_idle_mib()
    groups = memory_by_group()
    section = render(timings, breakdown, idle, bare, groups, time.perf_counter() - started)
    print(section)
    if args.readme:
        replace_section(section, [SECTION])


if __name__ == "__main__":
    main()
