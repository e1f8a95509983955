"""What every benchmark here shares: markdown tables and its own section of bench/README.md."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path

README = Path(__file__).resolve().with_name("README.md")


def table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def replace_section(section: str, starts: Sequence[str], readme: Path = README) -> None:
    """Put ``section`` at the end of ``readme`` instead of every ``## `` section whose heading
    starts with one of ``starts``; the other sections stay as they are."""
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    kept, skipping = [], False
    for line in text.splitlines():
        if line.startswith("## "):
            skipping = line.startswith(tuple(starts))
        if not skipping:
            kept.append(line)
    readme.write_text("\n".join(kept).rstrip() + "\n\n" + section)


def machine() -> str:
    """The machine and its load now, for a section's "Measured" line."""
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"load average at the end {load}"
    )


def write_section(
    heading: str, intro: str, markdown: str, explanation: str, replaces: Sequence[str] = ()
) -> None:
    """A benchmark's section: ``heading``, the ``intro`` saying how it was measured, the figures
    and what they say; in place of the sections whose headings start with ``heading`` or one of
    ``replaces``."""
    section = "\n".join([heading, "", intro, "", markdown, "", explanation.strip(), ""])
    replace_section(section, (heading, *replaces))
