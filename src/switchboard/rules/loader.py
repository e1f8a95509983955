"""``load_rules``: YAML text or file → validated models → compiled rules, or every problem found."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from switchboard.rules.admission_models import ADMISSION_KEYS
from switchboard.rules.condition_models import OPERATORS
from switchboard.rules.engine import CompiledRules
from switchboard.rules.errors import Issue, RulesError
from switchboard.rules.models import RulesFile
from switchboard.rules.yamlsource import YamlDocument, parse_yaml

_KNOWN_KEYS: Final = (
    *("version", "rules", "default", "id", "description", "when", "then", "dispatch"),
    *("agent", "metadata", "all", "any", "not", "time", "percentage", "timezone", "days"),
    *("from", "to", "percent", "key", "salt", *OPERATORS, *ADMISSION_KEYS),
)
_MISSING_HINTS: Final = {
    "version": "start the file with 'version: 1'",
    "default": "add 'default: nobody' or 'default: {dispatch: [{agent: NAME}]}'",
    "id": "give the rule an id such as 'id: inbound-sales'",
    "when": "add 'when:' with the conditions (or 'when: always')",
    "then": "add 'then: {dispatch: [{agent: NAME}]}' or 'then: nobody'",
    "dispatch": "add 'dispatch: [{agent: NAME}]', or 'dispatch: []' for nobody",
    "agent": "name the agent to dispatch, e.g. 'agent: qualifier'",
    "timezone": "add an IANA timezone, e.g. 'timezone: Europe/Berlin'",
    "from": "add the start time, e.g. from: '09:00'",
    "to": "add the end time, e.g. to: '17:00'",
    "percent": "add the share to select, e.g. 'percent: 10'",
}
_TYPE_HINTS: Final = {
    "from": "write HH:MM in quotes, e.g. '09:00'",
    "to": "write HH:MM in quotes, e.g. '17:00'",
    "days": "write a list such as [mon, tue] or a range such as mon-fri",
    "rules": "write the rules as a list: each item starts with '- id: ...'",
    "dispatch": "write a list of agents, e.g. [{agent: qualifier}]",
    "in": "write a list of values, e.g. in: ['+15551230000', '+15551230001']",
}
_TYPE_MESSAGES: Final = {
    "string_type": "expected text",
    "int_type": "expected a whole number",
    "float_type": "expected a number",
    "bool_type": "expected true or false",
    "list_type": "expected a list",
    "dict_type": "expected a mapping",
    "model_type": "expected a mapping",
    "model_attributes_type": "expected a mapping",
}
DEFAULT_HINT: Final = "see docs/rules.md for the rules file reference"


def load_rules(source: str | Path, *, filename: str | None = None) -> CompiledRules:
    """Load rules from a file path, or from YAML text (a string with a newline).

    Raises ``RulesError`` listing every problem as ``file:line:column: message (hint: ...)``.
    """
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return load_rules_text(source, filename or "<string>")
    name = filename or str(source)
    try:
        data = Path(source).read_bytes()
    except FileNotFoundError:
        raise RulesError(
            [Issue(name, 1, 1, "rules file not found", "check the path, e.g. rules.yaml")]
        ) from None
    except OSError as exc:
        raise RulesError([Issue(name, 1, 1, f"cannot read the rules file: {exc}", "")]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RulesError(
            [Issue(name, 1, 1, f"the file is not UTF-8 text ({exc.reason})", "save it as UTF-8")]
        ) from None
    return load_rules_text(text, name)


def load_rules_text(text: str, filename: str = "<string>") -> CompiledRules:
    """Load rules from YAML text; ``filename`` is only used in error positions."""
    document = parse_yaml(text, filename)
    issues = list(document.issues)
    model: RulesFile | None = None
    if not isinstance(document.data, Mapping):
        found = "empty" if document.data is None else "not a mapping"
        issues.append(
            Issue(
                filename,
                *document.position(()),
                f"the rules file is {found}",
                "start with 'version: 1', then 'rules:' and 'default:'",
            )
        )
    else:
        issues.extend(_duplicate_rule_ids(document))
        try:
            model = RulesFile.model_validate(document.data)
        except ValidationError as exc:
            errors = [e for e in _without_misspelt_missing(exc.errors())]
            issues.extend(
                _issue(document, error)
                for error in errors
                if error["type"] != "switchboard_duplicate"
            )
        except RecursionError:
            issues.append(Issue(filename, 1, 1, "the file is nested too deeply", "flatten it"))
    if issues or model is None:
        raise RulesError(issues)
    digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()
    return CompiledRules(model, source=filename, digest=digest)


def _without_misspelt_missing(errors: list[ErrorDetails]) -> list[ErrorDetails]:
    """Drop "missing key X" when the same mapping has an unknown key that is a typo of X."""
    typos = {
        (tuple(e["loc"][:-1]), close)
        for e in errors
        if e["type"] == "extra_forbidden"
        for close in difflib.get_close_matches(str(e["loc"][-1]), _KNOWN_KEYS, n=1, cutoff=0.6)
    }
    return [
        e
        for e in errors
        if e["type"] != "missing" or (tuple(e["loc"][:-1]), str(e["loc"][-1])) not in typos
    ]


def _issue(document: YamlDocument, error: ErrorDetails) -> Issue:
    loc = tuple(error["loc"])
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    last = loc[-1] if loc else ""
    at_key = False
    if kind == "switchboard":
        message, hint, at_key = str(ctx["message"]), str(ctx["hint"]), ctx.get("at") == "key"
    elif kind == "extra_forbidden":
        parent = loc[-2] if len(loc) > 1 else ""
        message, hint, at_key = f"unknown key '{last}'", _unknown_key_hint(str(last), parent), True
    elif kind == "missing":
        message, hint = f"missing required key '{last}'", _MISSING_HINTS.get(str(last), "")
        loc = loc[:-1]
    elif kind in _TYPE_MESSAGES:
        message = f"{_TYPE_MESSAGES[kind]}, got {_describe(error.get('input'))}"
        hint = _TYPE_HINTS.get(str(last), DEFAULT_HINT)
    else:
        message, hint = error["msg"], DEFAULT_HINT
    line, column = document.position(loc, at_key=at_key)
    return Issue(document.filename, line, column, message, hint)


def _unknown_key_hint(key: str, parent: int | str) -> str:
    if isinstance(parent, str) and parent and parent not in _KNOWN_KEYS:
        return "a field takes the tests " + ", ".join(OPERATORS)
    close = difflib.get_close_matches(key, _KNOWN_KEYS, n=1, cutoff=0.6)
    if close:
        return f"did you mean '{close[0]}'?"
    return "remove it; " + DEFAULT_HINT


def _describe(value: Any) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return repr(value)


def _duplicate_rule_ids(document: YamlDocument) -> list[Issue]:
    rules = document.data.get("rules") if isinstance(document.data, Mapping) else None
    if not isinstance(rules, list):
        return []
    first_line: dict[str, int] = {}
    issues = []
    for position, rule in enumerate(rules):
        rule_id = rule.get("id") if isinstance(rule, Mapping) else None
        if not isinstance(rule_id, str):
            continue
        line, column = document.position(("rules", position, "id"))
        if rule_id in first_line:
            issues.append(
                Issue(
                    document.filename,
                    line,
                    column,
                    f"duplicate rule id '{rule_id}' (first used on line {first_line[rule_id]})",
                    "give every rule its own id",
                )
            )
        else:
            first_line[rule_id] = line
    return issues
