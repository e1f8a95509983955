"""docs/adopt.md states the change from examples/byo/before/ to examples/byo/: its table of line
counts and its diffs must be what the files say."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.unit.adopt.diffs import BYO, PROGRAMS, adoption_diff, changed_lines

DOC = Path(__file__).resolve().parents[3] / "docs" / "adopt.md"


def _doc() -> str:
    return DOC.read_text()


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_doc_states_how_many_lines_change(name: str) -> None:
    added, removed = changed_lines(name)
    row = f"| `{name}` | {added} | {removed} |"
    assert row in _doc(), f"docs/adopt.md should have the row {row!r} (the files changed?)"


@pytest.mark.parametrize("name", PROGRAMS)
def test_the_doc_shows_the_exact_diff(name: str) -> None:
    blocks = re.findall(r"```diff\n(.*?)```", _doc(), re.DOTALL)
    shown = [b.rstrip("\n").splitlines() for b in blocks if b.startswith(f"--- before/{name}\n")]
    assert shown == [adoption_diff(name)], (
        f"docs/adopt.md's diff of {name} differs from before/{name} → {name}; "
        "regenerate it with tests.unit.adopt.diffs.adoption_diff"
    )


def test_the_speech_helper_is_not_part_of_the_adoption() -> None:
    assert (BYO / "speech.py").read_text() == (BYO / "before" / "speech.py").read_text()


def test_the_counts_table_has_one_row_per_program_and_a_total() -> None:
    total_added = sum(changed_lines(name)[0] for name in PROGRAMS)
    total_removed = sum(changed_lines(name)[1] for name in PROGRAMS)
    assert f"| total | {total_added} | {total_removed} |" in _doc()
