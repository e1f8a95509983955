"""The waterfall in a terminal: one row per bar, grouped by lane, on a shared time axis, then
the marks with their fix. Fits ``width`` columns (100 by default)."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from typing import Final

from rich.text import Text

from switchboard.tracing.trace import Bar, CallTrace

WIDTH: Final = 100
LABEL: Final = 28
"""Columns of a row's label (two of indent, then the step's label)."""
TAIL: Final = 34
"""Columns after the bar: the duration and the status."""
STYLES: Final = {"running": "bold yellow", "bad": "bold red", "ok": "green", "rule": "cyan"}
BAD_STATUSES: Final = frozenset({"dead", "retry", "failed", "declined", "hangup-error"})


def render_waterfall(trace: CallTrace, now: datetime | None = None, width: int = WIDTH) -> Text:
    """The trace as rich text no wider than ``width``."""
    clock = now or datetime.now(UTC)
    out = Text(no_wrap=True, overflow="ellipsis")
    state = "running" if trace.live else "closed"
    rooms = " + ".join(trace.rooms) or trace.room
    if trace.start is None:
        out.append(_fit(f"call {rooms}: nothing recorded in the store", width) + "\n")
        return out
    total = max(1.0, ((trace.end or clock) - trace.start).total_seconds())
    out.append(_fit(f"call {rooms} · {_seconds(total)} · {state}", width) + "\n", "bold")
    span = max(10, width - LABEL - TAIL - 2)
    axis = f"0 s{_seconds(total):>{span - 3}}"
    out.append(" " * LABEL + "│" + axis + "│\n", "dim")
    marked = {(mark.lane, mark.step) for mark in trace.marks}
    for lane in trace.lanes:
        out.append(_fit(lane.title, width) + "\n", "bold")
        for bar in lane.bars:
            out.append_text(_row(bar, trace.start, total, span, clock))
            if (lane.key, bar.step) in marked:
                out.append(" ✖", STYLES["bad"])
            out.append("\n")
    for mark in trace.marks:
        offset = (mark.at - trace.start).total_seconds()
        title = next((x.title for x in trace.lanes if x.key == mark.lane), mark.lane)
        head = f"✖ {title} · {mark.step.value} at +{_seconds(offset)}: {mark.problem}"
        for line in textwrap.wrap(head, width, subsequent_indent="  "):
            out.append(line + "\n", STYLES["bad"])
        for line in textwrap.wrap(
            f"fix: {mark.fix}", width, initial_indent="  ", subsequent_indent="       "
        ):
            out.append(line + "\n")
    return out


def _row(bar: Bar, start: datetime, total: float, span: int, clock: datetime) -> Text:
    begin = (bar.start - start).total_seconds()
    length = bar.duration_ms(clock) / 1000
    left = min(span - 1, int(begin / total * span))
    cells = max(1, min(span - left, round(length / total * span)))
    row = Text(no_wrap=True)
    row.append(_fit(f"  {bar.label}", LABEL - 1).ljust(LABEL))
    row.append("│" + " " * left)
    style = STYLES["running"] if bar.end is None else _style(bar.status)
    row.append("█" * cells if cells > 1 or length > 0 else "▏", style)
    row.append(" " * (span - left - cells) + "│")
    duration = f"{_seconds(length)}{'…' if bar.end is None else ''}"
    extra = f"rule {bar.rule}" if bar.rule and bar.step.value == "decision" else bar.status
    row.append(f" {duration:>7} ")
    row.append(_fit(extra, TAIL - 12), STYLES["rule"] if bar.rule else "")
    return row


def _style(status: str) -> str:
    return STYLES["bad"] if status in BAD_STATUSES else STYLES["ok"]


def _seconds(value: float) -> str:
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.1f} s"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
