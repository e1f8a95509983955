"""The terminal waterfall: 100 columns at most, a row per bar under its lane, marks with the fix."""

from __future__ import annotations

import io

from rich.console import Console

from switchboard.tracing.rebuild import build_trace
from switchboard.tracing.render import render_waterfall
from tests.unit.tracing.test_trace import CALLER, ROOM, at, event, warm_transfer


def text(rendered: object, width: int = 100) -> str:
    console = Console(width=width, record=True, file=io.StringIO())
    console.print(rendered)
    return console.export_text()


def test_warm_transfer_fits_100_columns_with_a_row_per_bar() -> None:
    trace = build_trace({ROOM: warm_transfer()})
    out = text(render_waterfall(trace))
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= 100
    assert lines[0].startswith(f"call {ROOM} · 44.0 s · closed")
    bars = sum(len(lane.bars) for lane in trace.lanes)
    assert sum("│" in line for line in lines) == bars + 1  # and the time axis
    for lane in trace.lanes:
        assert lane.title in lines
    assert "rule seed-caller" in out and "✖" not in out


def test_a_running_call_with_a_failed_dial_shows_the_mark_and_the_fix() -> None:
    entries = [
        event(0.5, "participant_joined", CALLER, "SIP"),
        event(5.0, "participant_joined", "AJ_o", "AGENT", **{"lk.agent_name": "outbound-caller"}),
        event(
            6.0,
            "participant_left",
            "AJ_o",
            "AGENT",
            **{
                "lk.agent_name": "outbound-caller",
                "switchboard.result": "loop_detected",
                "switchboard.state": "failed",
            },
        ),
    ]
    out = text(render_waterfall(build_trace({ROOM: entries}), now=at(10)))
    assert "running" in out.splitlines()[0]
    assert "✖ outbound-caller · agent.state at +5.5 s: transfer loop_detected" in out
    assert "fix: dial a number outside that trunk" in out
    assert max(len(line) for line in out.splitlines()) <= 100


def test_nothing_recorded() -> None:
    assert "nothing recorded" in text(render_waterfall(build_trace({ROOM: []})))
