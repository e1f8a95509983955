"""A seed-shaped project before and after following the doctor's own fixes.

`seed-before/` is the seed user's setup as pasted (trunks, the rule with the typo, the unnamed
qualifier dispatching outbound-caller into a new room, the Node server and the Azure Function
webhooks), handing outbound-caller the project's own number: the likely shape of his 482.
`seed-fixed/` applies each finding's fix and nothing else.
"""

from __future__ import annotations

import typer
from typer.testing import CliRunner

from switchboard.doctor import Severity, exit_code
from switchboard.doctor.cli import doctor

from .conftest import FIXTURES, findings_for

BEFORE = FIXTURES / "seed-before"
FIXED = FIXTURES / "seed-fixed"


def test_before_reports_every_mistake_of_the_seed_conversation() -> None:
    findings = findings_for(BEFORE)

    errors = sorted({f.code for f in findings if f.severity is Severity.ERROR})
    assert errors == ["SB101", "SB110", "SB201", "SB203", "SB204", "SB301", "SB305", "SB306"]
    assert sorted({f.code for f in findings if f.severity is Severity.WARNING}) == [
        "SB101",
        "SB104",
        "SB307",
    ]
    assert exit_code(findings) == 2


def test_before_names_both_ends_of_the_metadata_loop() -> None:
    (loop,) = [f for f in findings_for(BEFORE) if f.code == "SB201"]

    assert "482" in loop.message and "+1949771CCC" in loop.message
    assert any("qual_agent.py:31" in line and "phone_number" in line for line in loop.evidence)
    assert any("agent.py:22" in line and "dials" in line for line in loop.evidence)
    assert any("inbound_trunk.json" in line for line in loop.evidence)


def test_before_finds_the_three_handler_bugs_in_both_webhook_versions() -> None:
    findings = findings_for(BEFORE)

    def where(code: str) -> list[str]:
        return sorted(f.evidence[0].rsplit("/", 1)[-1] for f in findings if f.code == code)

    assert where("SB305") == [
        "azure_function.js:16: event.data.room",
        "webhook_server.js:32: event.data.room",
    ]
    assert where("SB306") == [
        "azure_function.js:12: receive() not awaited",
        "webhook_server.js:28: receive() not awaited",
    ]
    # The Azure version passes key and secret; only the Node server relies on the environment.
    assert where("SB307") == [
        "webhook_server.js:16: client without key and secret: AgentDispatchClient"
    ]


def test_fixed_project_has_no_findings_and_exits_0() -> None:
    assert findings_for(FIXED) == []

    app = typer.Typer()
    app.command()(doctor)
    result = CliRunner().invoke(app, ["--file", str(FIXED)])

    assert result.exit_code == 0, result.output
    assert "No problems found." in result.output
