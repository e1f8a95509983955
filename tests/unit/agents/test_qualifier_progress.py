"""The qualifier call's progress: forward only, settled once, nothing after the end."""

from __future__ import annotations

import logging

import pytest

from switchboard.agents.qualifier_progress import NEXT, SETTLED, CallProgress, Progress


def _at(*steps: Progress) -> CallProgress:
    progress = CallProgress("call-1")
    for step in steps:
        assert progress.advance(step), f"{progress.value} -> {step}"
    return progress


def test_a_call_starts_talking() -> None:
    assert CallProgress().value is Progress.TALKING


@pytest.mark.parametrize(
    "path",
    [
        (Progress.RESULT_TAKEN, Progress.ENDED),
        (Progress.RESULT_TAKEN, Progress.TRANSFERRING, Progress.TRANSFERRED),
        (Progress.RESULT_TAKEN, Progress.TRANSFERRING, Progress.FALLBACK, Progress.ENDED),
        (Progress.RESULT_TAKEN, Progress.TRANSFERRING, Progress.HANDED_OFF, Progress.ENDED),
        (Progress.RESULT_TAKEN, Progress.FALLBACK, Progress.ENDED),
        (Progress.ENDED,),
    ],
    ids=["not qualified", "transferred", "fallback", "new room", "not configured", "hung up"],
)
def test_the_paths_a_call_takes(path: tuple[Progress, ...]) -> None:
    assert _at(*path).value is path[-1]


def test_the_result_is_taken_once() -> None:
    progress = _at(Progress.RESULT_TAKEN)
    assert not progress.advance(Progress.RESULT_TAKEN)
    assert progress.value is Progress.RESULT_TAKEN


@pytest.mark.parametrize("first", sorted(SETTLED))
@pytest.mark.parametrize("second", sorted(SETTLED))
def test_a_transfer_settles_once(first: Progress, second: Progress) -> None:
    progress = _at(Progress.RESULT_TAKEN, Progress.TRANSFERRING, first)
    assert not progress.advance(second)
    assert progress.value is first


def test_a_second_settle_is_logged_at_debug_only(caplog: pytest.LogCaptureFixture) -> None:
    progress = _at(Progress.RESULT_TAKEN, Progress.TRANSFERRING, Progress.FALLBACK)
    with caplog.at_level(logging.DEBUG, logger="switchboard.agents"):
        progress.advance(Progress.TRANSFERRED)
    (record,) = caplog.records
    assert record.levelno == logging.DEBUG
    assert (record.__dict__["progress"], record.__dict__["refused"]) == ("fallback", "transferred")


@pytest.mark.parametrize("step", [Progress.TRANSFERRED, Progress.HANDED_OFF])
def test_only_a_started_transfer_connects_or_hands_off(step: Progress) -> None:
    assert not _at().advance(step)
    assert not _at(Progress.RESULT_TAKEN).advance(step)


def test_a_transferred_call_is_over_and_never_says_it_ended() -> None:
    progress = _at(Progress.RESULT_TAKEN, Progress.TRANSFERRING, Progress.TRANSFERRED)
    assert progress.over
    assert not progress.advance(Progress.ENDED)
    assert progress.value is Progress.TRANSFERRED


@pytest.mark.parametrize("step", list(Progress))
def test_nothing_follows_the_end(step: Progress) -> None:
    progress = _at(Progress.ENDED)
    assert progress.over
    assert not progress.advance(step)
    assert progress.value is Progress.ENDED


def test_no_step_leads_back() -> None:
    order = list(Progress)
    for step, following in NEXT.items():
        assert all(order.index(n) > order.index(step) for n in following), step
    assert not _at(Progress.RESULT_TAKEN, Progress.TRANSFERRING).advance(Progress.RESULT_TAKEN)
    assert not _at(Progress.RESULT_TAKEN).advance(Progress.TALKING)


def test_only_transferred_and_ended_are_final_and_any_unsettled_call_may_end() -> None:
    assert {step for step, following in NEXT.items() if not following} == {
        Progress.TRANSFERRED,
        Progress.ENDED,
    }
    assert all(Progress.ENDED in NEXT[s] for s in Progress if s not in {*SETTLED, Progress.ENDED})
