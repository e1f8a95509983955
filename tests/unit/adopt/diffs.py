"""The adoption diff of examples/byo, computed the one way docs/adopt.md shows it."""

from __future__ import annotations

import difflib
from pathlib import Path

BYO = Path(__file__).resolve().parents[3] / "examples" / "byo"
PROGRAMS = ("qual_agent.py", "agent.py")
CONTEXT_LINES = 2


def adoption_diff(name: str) -> list[str]:
    """``before/NAME`` → ``NAME`` as a unified diff with 2 context lines, no trailing newlines."""
    before = (BYO / "before" / name).read_text().splitlines()
    after = (BYO / name).read_text().splitlines()
    return list(
        difflib.unified_diff(before, after, f"before/{name}", name, n=CONTEXT_LINES, lineterm="")
    )


def changed_lines(name: str) -> tuple[int, int]:
    """(added, removed) lines of ``adoption_diff(name)``."""
    body = adoption_diff(name)[2:]
    added = sum(1 for line in body if line.startswith("+"))
    removed = sum(1 for line in body if line.startswith("-"))
    return added, removed
