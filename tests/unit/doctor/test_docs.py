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


def _section(title: str) -> str:
    text = DOCS.read_text()
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_command_line_option_is_documented() -> None:
    import typer.main

    from switchboard.doctor.cli import doctor

    command = typer.main.get_command_from_info(
        typer.models.CommandInfo(callback=doctor),
        pretty_exceptions_short=True,
        rich_markup_mode=None,
    )
    text = DOCS.read_text()
    options = [name for param in command.params for name in param.opts if name.startswith("--")]

    assert options
    for option in options:
        assert re.search(rf"`{option}[` ]", text), f"docs/doctor.md does not mention {option}"


def test_output_formats_are_documented() -> None:
    from switchboard.doctor.report import OutputFormat

    section = _section("Output formats")
    for output in OutputFormat:
        assert f"`--format {output.value}`" in section


def test_exit_status_table_matches_the_code() -> None:
    from switchboard.doctor import Severity
    from switchboard.doctor.cli import CANNOT_RUN

    rows = dict(re.findall(r"^\| (\d) \| (.+) \|$", _section("Exit status"), re.MULTILINE))

    assert sorted(int(code) for code in rows) == [0, 1, 2, 3]
    for severity in Severity:
        assert f"`{severity.value}`" in rows[str(severity.exit_code)]
    assert "could not run" in rows[str(CANNOT_RUN)] and "--probe" in rows[str(CANNOT_RUN)]


def test_suppression_syntax_in_the_docs_is_what_the_code_reads(tmp_path: Path) -> None:
    from switchboard.doctor.suppressions import _CONFIG_FILES, inline_ignores

    section = _section("Suppressing findings")
    for name, keys in _CONFIG_FILES:
        assert f'`{name}`: `[{".".join(keys)}]` then `ignore = ["SB202"]`' in section
    comments = re.findall(r"`((?:#|//) switchboard: ignore\[[^`]+\])`", section)
    assert len(comments) >= 2
    for comment in comments:
        (ignore,) = inline_ignores(tmp_path / "x.py", f"call()  {comment}\n")
        assert ignore.codes and all(code.startswith("SB") for code in ignore.codes)


def test_seed_example_table_is_what_the_doctor_reports() -> None:
    from .conftest import findings_for

    rows = re.findall(
        r"^\| (SB\d{3}) \| (\w+) \|", _section("Example: the seed setup"), re.MULTILINE
    )
    findings = findings_for(FIXTURES / "seed")

    assert sorted(set(rows)) == sorted({(f.code, f.severity.value) for f in findings})
