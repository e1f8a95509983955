"""docs/cli.md lists every ``switchboard`` command and every option, as the typer app has them,
and the exit codes, as ``switchboard.cli_errors`` gives them.

The reference is generated from the app: ``.venv/bin/python tests/unit/test_cli_docs.py`` rewrites
docs/cli.md. The tests fail when a command or an option is missing from it (or the doc lists one
the app no longer has), or when the exit-code table differs from the code, and say exactly what
to add or remove.
"""

from __future__ import annotations

import argparse
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main

from switchboard.agent_cli import AgentCommand
from switchboard.agents import launcher
from switchboard.cli import app
from switchboard.cli_errors import FAILED_EXIT_CODES, MEANINGS

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
REGENERATE = ".venv/bin/python tests/unit/test_cli_docs.py"


@dataclass(frozen=True)
class Command:
    path: str  # "switchboard rules apply"
    command: Any  # typer's (vendored) click Command

    @property
    def heading(self) -> str:
        return f"## `{self.path}`"

    def options(self) -> list[str]:
        """Each option's names (``--store``, ``--no-color``) and each argument (``ROOM``)."""
        if isinstance(self.command, AgentCommand):
            usage = _agent_parser(self.command.name).format_usage()
            return sorted(set(re.findall(r"--[\w-]+", usage)))
        names: list[str] = []
        for param in self.command.params:
            if _is_option(param):
                names += [name for name in [*param.opts, *param.secondary_opts] if name != "--help"]
            else:
                names.append(_argument(param))
        return names

    def render(self) -> str:
        lines = [self.heading, ""]
        ctx = self.command.context_class(self.command)
        usage = " ".join(self.command.collect_usage_pieces(ctx))
        lines += ["```text", f"{self.path} {usage}".rstrip(), "```", ""]
        if self.command.help:
            lines += [_plain(self.command.help), ""]
        rows = [_row(param) for param in self.command.params if _documented(param)]
        if rows:
            lines += ["| Option | What |", "|---|---|", *rows, ""]
        if isinstance(self.command, AgentCommand):
            help_text = _agent_parser(self.command.name).format_help().rstrip()
            lines += ["```text", help_text, "```", ""]
        return "\n".join(lines)


def commands() -> list[Command]:
    """Every command a user can run (groups only hold commands), in the order ``--help`` shows."""
    root = typer.main.get_command(app)
    found: list[Command] = []

    def walk(command: Any, path: str) -> None:
        if hasattr(command, "list_commands"):
            ctx = command.context_class(command)
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    walk(sub, f"{path} {name}")
        else:
            found.append(Command(path, command))

    walk(root, "switchboard")
    return found


def _agent_parser(name: str) -> argparse.ArgumentParser:
    """The launcher's parser for ``name``, its help a fixed 100 columns wide."""
    parser = launcher.parser(name)
    parser.formatter_class = lambda prog: argparse.HelpFormatter(prog, width=100)
    return parser


def render_exit_codes() -> str:
    """The exit-code table, as ``switchboard.cli_errors`` defines it."""
    rows = [f"| `{int(code)}` | {meaning} |" for code, meaning in MEANINGS.items()]
    exceptions = [
        f"| `switchboard {command}` | `{int(code)}` | {why} |"
        for command, (code, why) in FAILED_EXIT_CODES.items()
    ]
    return "\n".join(
        [
            "## Exit codes",
            "",
            "Every command ends the same way: an error is one `error: ...` line on stderr (the",
            "problems of a rules file or agents config: one `file:line[:column]: ...` line each,",
            "then `FILE: N problems`) and the exit code of its kind:",
            "",
            "| Code | Meaning |",
            "|---|---|",
            *rows,
            "",
            "A failure (code 1 above) ends with another code in these commands:",
            "",
            "| Command | Code | Why |",
            "|---|---|---|",
            *exceptions,
            "",
        ]
    )


def render() -> str:
    header = [
        "# Command reference",
        "",
        "Every `switchboard` command and option, as `--help` shows them. Generated from the",
        f"typer app by `{REGENERATE}`; tests/unit/test_cli_docs.py fails when a",
        "command or option is missing here and says what to add.",
        "",
        "What the commands are for, with examples: [rules.md](rules.md) (`rules`, `simulate`),",
        "[service.md](service.md) (`serve`, `explain`, `token`, `jobs`), [stack.md](stack.md),",
        "[dev.md](dev.md) (`dev`, `call`), [doctor.md](doctor.md), [agents.md](agents.md)",
        "(`agent`), [console.md](console.md).",
        "",
        render_exit_codes(),
        "",
    ]
    return "\n".join(header) + "\n".join(c.render() for c in commands()).rstrip() + "\n"


def _is_option(param: Any) -> bool:
    return bool(param.param_type_name == "option")


def _argument(param: Any) -> str:
    return str(param.name or "").upper()


def _documented(param: Any) -> bool:
    return not (_is_option(param) and param.opts == ["--help"])


def _row(param: Any) -> str:
    if _is_option(param):
        names = ", ".join(f"`{n}`" for n in [*param.opts, *param.secondary_opts])
        what = param.help or ""
        default = param.default
        shown = param.show_default is not False and not callable(default)
        if shown and default not in (None, False, "", ()):
            what = f"{what} Default: `{default}`.".strip()
    else:
        names = f"`{_argument(param)}`"
        what = getattr(param, "help", None) or "(argument)"
    if param.required:
        what = f"{what} Required.".strip()
    cell = _plain(what).replace("\n", " ").replace("|", "\\|")
    return f"| {names} | {cell} |"


def _plain(text: str) -> str:
    """Help text without typer's rich markup and the \\b no-rewrap markers."""
    text = inspect.cleandoc(text).replace("\b\n", "").replace("\b", "")
    return re.sub(r"\[/?(bold|dim|italic|cyan|green|red|yellow)\]", "", text)


def _section(doc: str, command: Command) -> str | None:
    start = doc.find(f"\n{command.heading}\n")
    if start < 0:
        return None
    end = doc.find("\n## ", start + 1)
    return doc[start : end if end >= 0 else len(doc)]


COMMANDS = commands()


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.path.removeprefix("switchboard "))
def test_every_command_and_option_is_in_docs_cli_md(command: Command) -> None:
    doc = DOC.read_text()
    section = _section(doc, command)
    assert section is not None, (
        f"docs/cli.md has no section for `{command.path}`: run `{REGENERATE}`, or add\n\n"
        f"{command.render()}"
    )
    # an agent's options are its launcher's --help, quoted whole (names without backticks)
    quoted = "{}" if isinstance(command.command, AgentCommand) else "`{}`"
    missing = [name for name in command.options() if quoted.format(name) not in section]
    assert not missing, (
        f"docs/cli.md, section `{command.path}`, does not mention "
        f"{', '.join(f'`{m}`' for m in missing)}: run `{REGENERATE}`, or add these rows\n\n"
        + "\n".join(
            _row(p)
            for p in command.command.params
            if _documented(p) and any(f"`{m}`" in _row(p) for m in missing)
        )
    )


def test_the_exit_code_table_is_the_one_the_code_uses() -> None:
    table = render_exit_codes()
    assert table in DOC.read_text(), (
        f"docs/cli.md's exit codes differ from switchboard.cli_errors: run `{REGENERATE}`, or "
        f"make its '## Exit codes' section\n\n{table}"
    )


def test_docs_cli_md_lists_no_command_the_app_does_not_have() -> None:
    documented = re.findall(r"^## `(switchboard[^`]*)`$", DOC.read_text(), re.MULTILINE)
    known = {c.path for c in COMMANDS}
    stale = [path for path in documented if path not in known]
    assert not stale, f"docs/cli.md documents {stale}, which the app no longer has: remove them"


if __name__ == "__main__":
    DOC.write_text(render())
    print(f"wrote {DOC} ({len(COMMANDS)} commands)", file=sys.stderr)
