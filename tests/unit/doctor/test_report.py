"""Table and JSON output, exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from rich.console import Console

from switchboard.doctor import Finding, Inventory, Severity, exit_code, render_json, render_table
from switchboard.doctor.checks.lifecycle import ROOM_CREATED_WEBHOOK
from switchboard.doctor.report import render_text
from switchboard.doctor.suppressions import SuppressedFinding

from .conftest import FIXTURES, findings_for


def _finding(severity: Severity) -> Finding:
    return ROOM_CREATED_WEBHOOK.finding(severity, "message", ["w.js:1"], "fix it")


def test_exit_code_follows_the_worst_severity() -> None:
    assert exit_code([]) == 0
    assert exit_code([_finding(Severity.INFO)]) == 0
    assert exit_code([_finding(Severity.INFO), _finding(Severity.WARNING)]) == 1
    assert exit_code([_finding(Severity.WARNING), _finding(Severity.ERROR)]) == 2


def test_json_output_is_machine_readable() -> None:
    findings = findings_for(FIXTURES / "seed")

    document = json.loads(render_json(findings, Inventory(files=["a.py"])))

    assert document["summary"]["exit_code"] == 2
    assert document["summary"]["worst"] == "error"
    assert document["summary"]["counts"]["error"] == 4
    assert document["suppressed"] == [] and document["summary"]["suppressed"] == 0
    first = document["findings"][0]
    assert set(first) == {"code", "severity", "title", "message", "evidence", "fix", "docs"}
    assert first["docs"].startswith("docs/doctor.md#sb")


def test_table_shows_code_severity_evidence_fix_and_docs_link() -> None:
    console = Console(record=True, width=200)

    render_table([_finding(Severity.ERROR)], Inventory(), console)

    text = console.export_text()
    for expected in ("SB301", "error", "w.js:1", "fix it", "docs/doctor.md#sb301", "1 finding"):
        assert expected in text


def test_table_says_so_when_nothing_is_wrong() -> None:
    console = Console(record=True, width=120)

    render_table([], Inventory(), console)

    assert "No problems found." in console.export_text()


def test_text_output_reads_like_a_linter_at_80_columns(monkeypatch: pytest.MonkeyPatch) -> None:
    # Paths are printed as given, like a linter's; run from the fixtures so the width does not
    # depend on where the checkout lives (CI's is longer: its `see:` paths alone passed 80).
    monkeypatch.chdir(FIXTURES)
    console = Console(record=True, width=80)
    findings = findings_for(Path("seed-before"))

    render_text(findings, Inventory(files=["a.py"]), console)

    lines = console.export_text().splitlines()
    head = re.compile(r"^\S+:\d+: SB\d{3} (error|warning|info): \S")
    heads = [line for line in lines if head.match(line)]
    assert len(heads) == len(findings)
    assert all(len(line) <= 80 for line in lines if line not in heads)
    body = [line for line in lines if line.startswith("    ")]
    for label in ("why: ", "fix: ", "docs: docs/doctor.md#sb201"):
        assert any(line.startswith(f"    {label}") for line in body)
    assert lines[-1].startswith(f"{len(findings)} finding(s)")


def test_text_output_counts_suppressed_findings_apart() -> None:
    console = Console(record=True, width=80)
    finding = _finding(Severity.WARNING)
    suppressed = SuppressedFinding(**finding.model_dump(), suppressed_by="--ignore")

    render_text([], Inventory(), console, [suppressed])

    assert "No problems found. 1 suppressed (listed by --json)." in console.export_text()
