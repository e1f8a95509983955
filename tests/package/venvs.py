"""Fresh virtual environments with the built wheel installed, one per extra, as a user installs
it: ``uv`` (the dev extra) with ``constraints.txt``; its cache makes a repeat install take seconds.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).parent / "uv"
SERVICE_STACK = ("sqlalchemy", "starlette", "uvicorn", "alembic", "asyncpg", "re2")
"""What the service extra adds; a base install must have none of it."""
INSTALL_SECONDS: dict[str, float] = {}
"""Seconds each install took, for the session summary."""


@dataclass(frozen=True)
class Venv:
    """A fresh virtual environment with the wheel installed."""

    path: Path

    def bin(self, name: str) -> Path:
        return self.path / "bin" / name

    def run(
        self, *args: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run ``args[0]`` from this venv's bin/ (nothing from the dev venv on PATH)."""
        command = [str(self.bin(str(args[0]))), *map(str, args[1:])]
        return subprocess.run(
            command, cwd=cwd, env=clean_env(self, env), capture_output=True, text=True, timeout=180
        )

    def has(self, module: str) -> bool:
        probe = f"import importlib.util as u, sys; sys.exit(0 if u.find_spec({module!r}) else 1)"
        return self.run("python", "-c", probe).returncode == 0


def clean_env(venv: Venv, extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a user's shell would give this venv: no dev venv, no PYTHONPATH."""
    keep = {k: v for k, v in os.environ.items() if k in ("HOME", "LANG", "TMPDIR", "TERM")}
    path = f"{venv.path / 'bin'}:/usr/local/bin:/usr/bin:/bin"
    return {**keep, "PATH": path, "VIRTUAL_ENV": str(venv.path), **(extra or {})}


def install(wheel: Path, extra: str, directory: Path) -> Venv:
    """A new venv in ``directory`` with ``wheel[extra]`` (``base``: no extra) and its pins."""
    if not UV.exists():
        pytest.fail(f"{UV} is missing: pip install -c constraints.txt -e '.[dev]' (uv is in dev)")
    venv = Venv(directory / f"venv-{extra}")
    started = time.monotonic()
    subprocess.run(
        [UV, "venv", "-q", "-p", sys.executable, venv.path], check=True, capture_output=True
    )
    target = str(wheel) if extra == "base" else f"{wheel}[{extra}]"
    done = subprocess.run(
        [UV, "pip", "install", "-q", "-p", venv.path, "-c", ROOT / "constraints.txt", target],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, f"installing {target} failed:\n{done.stderr}"
    INSTALL_SECONDS[extra] = time.monotonic() - started
    return venv
