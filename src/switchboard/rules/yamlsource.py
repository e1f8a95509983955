"""YAML with positions: parse a file keeping each node's line and column.

The one YAML reader: rules files, agents configs and the doctor's view of rules files all go
through ``parse_yaml``. It follows YAML 1.2 for plain scalars, because YAML 1.1 surprises
authors: ``17:00`` is the integer 1020 there, ``no`` is ``False`` and ``0123`` is octal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from switchboard.errors import Problem, ProblemsError
from switchboard.rules.errors import RulesError

_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"


class YamlLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 core-schema booleans and numbers (no sexagesimal, no octal)."""


YamlLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in (_BOOL, _INT, _FLOAT)]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
YamlLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
YamlLoader.add_implicit_resolver(
    _INT, re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
YamlLoader.add_implicit_resolver(
    _FLOAT,
    re.compile(
        r"^(?:[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?[0-9]+[eE][-+]?[0-9]+|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


@dataclass
class YamlDocument:
    """A parsed YAML document: the Python data, its node tree and structural issues."""

    filename: str
    data: Any
    root: Node | None
    issues: list[Problem] = field(default_factory=list)

    def position(self, loc: Sequence[int | str], *, at_key: bool = False) -> tuple[int, int]:
        """The 1-based line and column of the node at a pydantic error location.

        Steps that do not exist in the file (a union tag, a key added by a validator) are
        skipped, so the answer is the deepest node the file really has.
        """
        node = self.root
        if node is None:
            return 1, 1
        key_node: Node | None = None
        for step in loc:
            found = _child(node, step)
            if found is None:
                continue
            key_node, node = found
        target = key_node if at_key and key_node is not None else node
        return target.start_mark.line + 1, target.start_mark.column + 1

    def key_position(self, loc: Sequence[int | str]) -> tuple[int, int]:
        """Position of the key of the last step in ``loc`` (for unknown or duplicate keys)."""
        return self.position(loc, at_key=True)


def parse_yaml(
    text: str, filename: str, *, error: type[ProblemsError] = RulesError
) -> YamlDocument:
    """Parse YAML text, raising ``error`` (``RulesError`` by default) with the position of any
    syntax error; duplicate keys are left in ``YamlDocument.issues`` for the caller to report."""
    try:
        loader = YamlLoader(text)
    except yaml.reader.ReaderError as exc:
        raise error([_reader_issue(text, filename, exc)]) from None
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "invalid YAML"
        raise error(
            [Problem(filename, line, column, f"invalid YAML: {problem}", _yaml_hint(problem))]
        ) from None
    except yaml.reader.ReaderError as exc:
        raise error([_reader_issue(text, filename, exc)]) from None
    except yaml.YAMLError as exc:
        raise error([Problem(filename, 1, 1, f"invalid YAML: {exc}", _yaml_hint(""))]) from None
    except RecursionError:
        raise error(
            [Problem(filename, 1, 1, "YAML nested too deeply", "flatten the file")]
        ) from None
    finally:
        loader.dispose()
    document = YamlDocument(filename, data, root)
    if root is not None:
        _check_duplicate_keys(document, root, set())
    return document


def _reader_issue(text: str, filename: str, error: yaml.reader.ReaderError) -> Problem:
    before = text[: error.position]
    line = before.count("\n") + 1
    column = error.position - (before.rfind("\n") + 1) + 1
    character = error.character if isinstance(error.character, int) else 0
    return Problem(
        filename,
        line,
        column,
        f"invalid YAML: control character #x{character:04x} is not allowed",
        "remove it; the file must be plain UTF-8 text",
    )


def _yaml_hint(problem: str) -> str:
    if "tab" in problem:
        return "indent with spaces, not tabs"
    if "could not determine a constructor" in problem:
        return "remove the YAML tag (the word starting with '!'); Switchboard reads plain YAML"
    return "check the indentation and quoting here; quote values that contain ': ' or '#'"


def _child(node: Node, step: int | str) -> tuple[Node, Node] | None:
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == str(step):
                return key, value
        return None
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        item: Node = node.value[step]
        return item, item
    return None


def _check_duplicate_keys(document: YamlDocument, node: Node, seen: set[int]) -> None:
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, MappingNode):
        keys: set[str] = set()
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                if key.value in keys:
                    document.issues.append(
                        Problem(
                            document.filename,
                            key.start_mark.line + 1,
                            key.start_mark.column + 1,
                            f"duplicate key '{key.value}'",
                            "YAML keeps only the last one; remove or rename one of them",
                        )
                    )
                keys.add(key.value)
            _check_duplicate_keys(document, value, seen)
    elif isinstance(node, SequenceNode):
        for item in node.value:
            _check_duplicate_keys(document, item, seen)
