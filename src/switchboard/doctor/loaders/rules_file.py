"""Switchboard rules files, loaded by the rules engine itself (``switchboard.rules``).

A rules file is a YAML mapping with top-level ``version:`` and ``rules:`` keys. The doctor loads
it exactly as ``switchboard serve`` does, so a file the service would refuse is reported with the
same ``file:line:column`` problems (check SB001) instead of being half-read. From a valid file it
takes the agent names the rules dispatch (``then:``/``default:``) and the participant attributes
their conditions read (``participant.attributes[x]``, ``participant.attributes.x``, ``sip.x``,
and a ``percentage.key`` naming one), each with its line.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from switchboard.doctor.inventory import Inventory, Reference, RulesFile
from switchboard.rules import RulesError, load_rules_text
from switchboard.rules.condition_models import Condition
from switchboard.rules.fields import parse_field_path
from switchboard.rules.models import Action
from switchboard.rules.yamlsource import YamlDocument, parse_yaml

Location = tuple[int | str, ...]


def is_rules_document(text: str) -> bool:
    """True when ``text`` is a YAML mapping with top-level ``version`` and ``rules`` keys."""
    try:
        data = parse_yaml(text, "<rules>").data
    except RulesError:
        return False
    return isinstance(data, dict) and "version" in data and "rules" in data


def load_rules_file(path: Path) -> Inventory:
    """The agent names and condition attributes of a rules file, or the problems that make the
    rules engine refuse it."""
    text = path.read_text(encoding="utf-8")
    try:
        model = load_rules_text(text, str(path)).model
        document = parse_yaml(text, str(path))
    except RulesError as error:
        return Inventory(problems=list(error.issues))
    dispatched = [
        *(((("rules", index, "then"), rule.then) for index, rule in enumerate(model.rules))),
        (("default",), model.default),
    ]
    agents = [found for loc, action in dispatched for found in _agents(document, action, loc)]
    attributes = [
        found
        for index, rule in enumerate(model.rules)
        for found in _attributes(document, rule.when, ("rules", index, "when"))
    ]
    facts = RulesFile(
        source=f"{path}:1",
        agents=_in_file_order(path, agents),
        attributes=_in_file_order(path, attributes),
    )
    return Inventory(rules_files=[facts], files=[str(path)])


Found = tuple[tuple[int, int], str]
"""A name and the (line, column) where the file has it."""


def _agents(document: YamlDocument, action: Action, loc: Location) -> Iterator[Found]:
    for index, spec in enumerate(action.dispatch):
        yield document.position((*loc, "dispatch", index)), spec.agent


def _attributes(document: YamlDocument, condition: Condition, loc: Location) -> Iterator[Found]:
    for key, test in condition.field_tests.items():
        attribute = parse_field_path(test.field).attribute
        if attribute is not None:
            yield document.key_position((*loc, key)), attribute
    for combinator, children in (("all", condition.all_), ("any", condition.any_)):
        for index, child in enumerate(children or ()):
            yield from _attributes(document, child, (*loc, combinator, index))
    if condition.not_ is not None:
        yield from _attributes(document, condition.not_, (*loc, "not"))
    rollout = condition.percentage
    if rollout is not None and (attribute := parse_field_path(rollout.key).attribute):
        yield document.position((*loc, "percentage", "key")), attribute


def _in_file_order(path: Path, found: list[Found]) -> list[Reference]:
    return [Reference(name=name, source=f"{path}:{line}") for (line, _), name in sorted(found)]
