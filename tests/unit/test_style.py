"""The layout is ruff format's everywhere: no region of the tree opts out of it."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]
OPT_OUTS = ("# fmt: " + "skip", "# fmt: " + "off")


def test_no_file_opts_out_of_the_formatter() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{number}"
        for folder in ("src", "tests", "bench")
        for path in sorted((ROOT / folder).rglob("*.py"))
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if line.rstrip().endswith(OPT_OUTS)
    ]

    assert found == []
