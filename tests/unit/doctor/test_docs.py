"""docs/doctor.md explains every check, and every check has its fixtures."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from switchboard.doctor import CHECKS

from .conftest import FIXTURES

DOCS = Path(__file__).resolve().parents[3] / "docs" / "doctor.md"


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.code.code)
def test_every_code_has_a_docs_section_with_its_title(check: object) -> None:
    code = check.code  # type: ignore[attr-defined]
    text = DOCS.read_text()

    section = re.search(rf"^## {code.code}\n\n\*\*(.+?)\*\*", text, re.MULTILINE)

    assert section, f"docs/doctor.md has no '## {code.code}' section"
    assert section.group(1).replace("`", "") == code.title.replace("`", "")
    for part in ("*What goes wrong.*", "*Fix.*"):
        body = text[section.end() :].split("\n## ", 1)[0]
        assert part in body


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.code.code)
def test_every_code_has_bad_and_good_fixtures(check: object) -> None:
    code = check.code.code  # type: ignore[attr-defined]

    assert any((FIXTURES / code / "bad").iterdir())
    assert any((FIXTURES / code / "good").iterdir())


def test_codes_are_unique() -> None:
    codes = [check.code.code for check in CHECKS]

    assert len(codes) == len(set(codes))
