"""The package suite (``make test`` builds ``dist/livekit_switchboard-*.whl`` first, then runs
it, on loopback outside the netns: it installs from PyPI)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.package.venvs import INSTALL_SECONDS, ROOT


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if Path(item.path).is_relative_to(Path(__file__).parent):
            item.add_marker(pytest.mark.package)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if INSTALL_SECONDS:
        times = ", ".join(f"{extra} {s:.1f} s" for extra, s in INSTALL_SECONDS.items())
        terminalreporter.write_line(f"package installs: {times}")


@pytest.fixture(scope="session")
def wheel() -> Path:
    found = sorted(
        (ROOT / "dist").glob("livekit_switchboard-*.whl"), key=lambda p: p.stat().st_mtime
    )
    if not found:
        pytest.fail("no dist/livekit_switchboard-*.whl: run `make wheel` (make test builds it)")
    return found[-1]
