"""Helpers for the doctor's unit tests: run the checks on a fixture directory."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from switchboard.doctor import Finding, Inventory, load_paths, run_checks

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "doctor"


def findings_for(path: Path) -> list[Finding]:
    """Load a fixture directory (or an `inventory.json` snapshot) and run every check."""
    snapshot = path / "inventory.json"
    if snapshot.exists():
        inventory = Inventory.model_validate_json(snapshot.read_text())
    else:
        inventory = load_paths([path])
    return run_checks(inventory)


@pytest.fixture
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture
def doctor() -> Callable[[Path], list[Finding]]:
    return findings_for
