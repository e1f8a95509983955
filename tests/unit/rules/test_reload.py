"""RulesHolder: hot reload swaps atomically; a bad file keeps the old rules and reports why."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest

from switchboard.rules import ReloadResult, RulesError, RulesHolder

from .helpers import MONDAY_NOON_UTC, document, room_started


def write(path: Path, agent: str, *, bump: int = 0) -> None:
    path.write_text(document([], default={"dispatch": [agent]}))
    if bump:
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + bump))


def agent(holder: RulesHolder) -> list[str]:
    return holder.decide(room_started(), MONDAY_NOON_UTC).agent_names


def test_loads_at_construction_and_raises_on_an_invalid_first_file(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "one")
    assert agent(RulesHolder(path)) == ["one"]
    path.write_text("version: 1\n")
    with pytest.raises(RulesError):
        RulesHolder(path)


def test_unchanged_files_are_not_reloaded(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "one")
    holder = RulesHolder(path)
    before = holder.rules
    assert holder.reload_if_changed().status == "unchanged"
    write(path, "one", bump=10_000_000)  # touched, same content
    assert holder.reload_if_changed().status == "unchanged"
    assert holder.rules is before


def test_a_changed_file_is_swapped_in(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "one")
    holder = RulesHolder(path)
    write(path, "two", bump=10_000_000)
    result = holder.reload_if_changed()
    assert result.status == "reloaded"
    assert result.rules is holder.rules
    assert agent(holder) == ["two"]


def test_a_broken_file_keeps_the_old_rules_and_reports_the_error(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "one")
    holder = RulesHolder(path)
    path.write_text("version: 1\nrules: []\ndefault: {dispatch: [{agent: ''}]}\n")
    result = holder.reload_if_changed()
    assert result.status == "failed"
    assert result.error is not None and "agent name is empty" in str(result.error)
    assert holder.last_error is result.error
    assert agent(holder) == ["one"]
    assert holder.reload_if_changed().status == "unchanged"  # same broken content: no retry noise
    write(path, "three", bump=10_000_000)
    assert holder.reload_if_changed().status == "reloaded"
    assert holder.last_error is None


def test_a_deleted_file_keeps_the_old_rules(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "one")
    holder = RulesHolder(path)
    path.unlink()
    result = holder.reload_if_changed()
    assert result.status == "failed"
    assert "cannot read the rules file" in str(result.error)
    assert agent(holder) == ["one"]


def test_force_reloads_even_without_changes(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "one")
    holder = RulesHolder(path)
    before = holder.rules
    assert holder.reload_if_changed(force=True).status == "reloaded"
    assert holder.rules is not before


def test_decisions_keep_flowing_during_reloads(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "a")
    holder = RulesHolder(path)
    seen: set[str] = set()
    failures: list[BaseException] = []
    stop = threading.Event()

    def decide_forever() -> None:
        try:
            while not stop.is_set():
                seen.update(agent(holder))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    worker = threading.Thread(target=decide_forever)
    worker.start()
    for round_number in range(1, 30):
        write(path, "b" if round_number % 2 else "a", bump=round_number * 10_000_000)
        holder.reload_if_changed()
    stop.set()
    worker.join()
    assert failures == []
    assert seen == {"a", "b"}


def test_watch_reports_reloads(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    write(path, "one")
    holder = RulesHolder(path)
    results: list[ReloadResult] = []

    async def scenario() -> None:
        task = asyncio.create_task(holder.watch(0.01, results.append))
        await asyncio.sleep(0.05)
        write(path, "two", bump=10_000_000)
        for _ in range(200):
            if results:
                break
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(scenario())
    assert [result.status for result in results] == ["reloaded"]
    assert agent(holder) == ["two"]
