"""Silencing findings: --ignore, pyproject.toml / switchboard.toml, inline comments."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from switchboard.doctor.cli import doctor

from .conftest import FIXTURES

app = typer.Typer()
app.command()(doctor)
runner = CliRunner()


def _run(*args: str) -> tuple[int, dict[str, object]]:
    result = runner.invoke(app, ["--json", *args])
    return result.exit_code, json.loads(result.output)


@pytest.fixture
def shared_trunk(tmp_path: Path) -> Path:
    """SB202/bad (a shared Twilio trunk and a dial the doctor cannot trace) in a scratch dir."""
    project = tmp_path / "project"
    shutil.copytree(FIXTURES / "SB202" / "bad", project)
    return project


def test_without_suppression_the_warning_counts(shared_trunk: Path) -> None:
    code, document = _run("--file", str(shared_trunk))

    assert code == 1
    codes = [f["code"] for f in document["findings"]]  # type: ignore[index]
    assert codes == ["SB202", "SB203"]  # SB203 is info: no dispatch rule was passed
    assert document["suppressed"] == []


@pytest.mark.parametrize("option", [["--ignore", "SB202"], ["--ignore", "sb106, SB202"]])
def test_ignore_option_silences_and_the_exit_code_follows(
    shared_trunk: Path, option: list[str]
) -> None:
    code, document = _run("--file", str(shared_trunk), *option)

    assert code == 0
    assert [f["code"] for f in document["findings"]] == ["SB203"]  # type: ignore[index]
    (suppressed,) = document["suppressed"]  # type: ignore[misc]
    assert (suppressed["code"], suppressed["suppressed_by"]) == ("SB202", "--ignore")
    assert document["summary"]["suppressed"] == 1  # type: ignore[index]


def test_unknown_code_is_a_usage_error(shared_trunk: Path) -> None:
    result = runner.invoke(app, ["--file", str(shared_trunk), "--ignore", "SB999"])

    assert result.exit_code == 2
    assert "unknown check code(s) SB999" in " ".join(result.output.split())


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "pyproject.toml",
            '[project]\nname = "x"\n\n[tool.switchboard.doctor]\nignore = ["SB202"]\n',
        ),
        ("switchboard.toml", '[doctor]\nignore = ["SB202"]\n'),
    ],
)
def test_config_file_above_the_checked_files(shared_trunk: Path, name: str, text: str) -> None:
    config = shared_trunk.parent / name
    config.write_text(text)

    code, document = _run("--file", str(shared_trunk))

    assert code == 0
    (suppressed,) = document["suppressed"]  # type: ignore[misc]
    assert suppressed["suppressed_by"] == str(config.resolve())


def test_pyproject_without_the_table_is_not_a_config(shared_trunk: Path) -> None:
    (shared_trunk.parent / "pyproject.toml").write_text('[project]\nname = "x"\n')

    code, _ = _run("--file", str(shared_trunk))

    assert code == 1


def test_bad_config_is_a_usage_error_naming_the_file(shared_trunk: Path) -> None:
    (shared_trunk.parent / "switchboard.toml").write_text('[doctor]\nignore = "SB202"\n')

    result = runner.invoke(app, ["--file", str(shared_trunk)], env={"COLUMNS": "300"})

    assert result.exit_code == 2
    text = " ".join(result.output.replace("│", " ").split())
    assert "switchboard.toml" in text and "`ignore` must be a list of codes" in text


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (
            "    await ctx.api.sip.create_sip_participant(\n",
            "    await ctx.api.sip.create_sip_participant(  # switchboard: ignore[SB202]\n",
        ),
        (
            "    await ctx.api.sip.create_sip_participant(\n",
            "    # switchboard: ignore[SB106, SB202]\n"
            "    await ctx.api.sip.create_sip_participant(\n",
        ),
    ],
    ids=["same-line", "line-above"],
)
def test_inline_python_comment_on_the_line_the_finding_cites(
    shared_trunk: Path, old: str, new: str
) -> None:
    caller = shared_trunk / "caller.py"
    caller.write_text(caller.read_text().replace(old, new))

    code, document = _run("--file", str(shared_trunk))

    assert code == 0
    (suppressed,) = document["suppressed"]  # type: ignore[misc]
    assert "caller.py:" in suppressed["suppressed_by"]
    assert "switchboard: ignore[" in suppressed["suppressed_by"]


def test_inline_comment_for_another_code_does_not_silence(shared_trunk: Path) -> None:
    caller = shared_trunk / "caller.py"
    text = caller.read_text()
    caller.write_text(
        text.replace(
            "create_sip_participant(\n", "create_sip_participant(  # switchboard: ignore[SB201]\n"
        )
    )

    code, _ = _run("--file", str(shared_trunk))

    assert code == 1


def test_inline_js_comment(tmp_path: Path) -> None:
    server = tmp_path / "server.js"
    text = (FIXTURES / "SB307" / "bad" / "server.js").read_text()
    server.write_text(
        text.replace(
            "new AgentDispatchClient(process.env.LIVEKIT_URL);",
            "new AgentDispatchClient(process.env.LIVEKIT_URL); // switchboard: ignore[SB307]",
        )
    )

    _, document = _run("--file", str(server))

    codes = [f["code"] for f in document["findings"]]  # type: ignore[index]
    assert "SB307" not in codes and "SB306" in codes
    assert [f["code"] for f in document["suppressed"]] == ["SB307"]  # type: ignore[union-attr]
