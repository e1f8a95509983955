"""Line-based scan of web frontends and Node services (.ts/.tsx/.js/...) and of `.env` files.

JavaScript is not parsed; the patterns are the ones LiveKit's starters and server SDK use:
`new AccessToken(...)` with or without `roomConfig` agents, `useAgentErrors` and `session.end()`
on agent failure, `createDispatch(room, 'agent')`, and webhook event names.
"""

from __future__ import annotations

import re
from pathlib import Path

from switchboard.doctor.inventory import (
    HandlerIssue,
    Inventory,
    MetadataOrigin,
    MetadataSend,
    MetadataValue,
    Reference,
    RoomPath,
    RoomPathKind,
)
from switchboard.doctor.loaders.python_scan import (
    DYNAMIC_AGENT,
    ENV_AGENT_NAME_VARIABLES,
    WATCHED_WEBHOOK_EVENTS,
)

WEB_SUFFIXES = frozenset({".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs"})

_TOKEN = re.compile(r"new\s+AccessToken\s*\(")
_AGENT_NAME = re.compile(r"""agent_?[nN]ame\s*:\s*['"`]([^'"`]+)['"`]""")
_ROOM_CONFIG_AGENTS = re.compile(r"(roomConfig|RoomConfiguration)[\s\S]*?\bagents\b")
_CREATE_DISPATCH = re.compile(r"""\.createDispatch\s*\(\s*[^,]+,\s*(['"`])([^'"`]+)\1""")
_USE_AGENT_ERRORS = re.compile(r"\buseAgentErrors\b")
_END_SESSION = re.compile(r"\b(?:session\.)?end\(\s*\)")
_FAILED_STATE = re.compile(r"""state\s*===?\s*['"]failed['"]""")
_EVENTS = "|".join(sorted(WATCHED_WEBHOOK_EVENTS))
_ENV_NAMES = "|".join(sorted(ENV_AGENT_NAME_VARIABLES, reverse=True))
_EVENT = re.compile(rf"""['"`]({_EVENTS})['"`]""")
_ENV = re.compile(rf"\b({_ENV_NAMES})\b")
_ENV_ASSIGNMENT = re.compile(rf"^\s*(?:export\s+)?({_ENV_NAMES})\s*=")
_STRINGIFY = re.compile(r"metadata\s*:\s*JSON\.stringify\(\s*\{([^{}]*)\}\s*\)")
_PAIR = re.compile(
    r"""(?P<key>\w+|'[^']*'|"[^"]*")\s*:\s*"""
    r"""(?P<value>'(?P<single>[^']*)'|"(?P<double>[^"]*)"|[^,}]+)"""
)
_RECEIVER = re.compile(r"\b(\w+)\s*=\s*new\s+WebhookReceiver\b")
_ROOM_FROM_DATA = re.compile(r"\b\w+\.data\.room\b(?:\.\w+)?")
_API_CLIENT = re.compile(
    r"new\s+(AgentDispatchClient|RoomServiceClient|SipClient|EgressClient|IngressClient)"
    r"\s*\(\s*([^,()]*?)\s*\)"
)


def is_env_file(path: Path) -> bool:
    """True for `.env`, `.env.local`, `production.env` and the like."""
    return path.name == ".env" or path.name.startswith(".env.") or path.suffix == ".env"


def scan_web_file(path: Path) -> Inventory:
    """Scan one JavaScript/TypeScript file."""
    text = path.read_text(encoding="utf-8", errors="replace")
    lines = text.splitlines()
    inventory = Inventory(files=[str(path)])

    for match in _TOKEN.finditer(text):
        names = _AGENT_NAME.findall(text)
        has_agents = bool(_ROOM_CONFIG_AGENTS.search(text))
        inventory.room_paths.append(
            RoomPath(
                kind=RoomPathKind.TOKEN,
                agents=names or ([DYNAMIC_AGENT] if has_agents else []),
                source=_where(path, text, match.start()),
            )
        )
    is_webhook_handler = "WebhookReceiver" in text
    for match in _CREATE_DISPATCH.finditer(text):
        inventory.room_paths.append(
            RoomPath(
                kind=RoomPathKind.CREATE_DISPATCH,
                dispatched_agent=match.group(2),
                may_create_room=not is_webhook_handler,
                source=_where(path, text, match.start()),
            )
        )
        call = text[match.end() : match.end() + 400].split(";", 1)[0]
        if "metadata" in call:
            inventory.metadata_sends.append(
                MetadataSend(
                    agents=[match.group(2)],
                    origin=MetadataOrigin.JOB,
                    fields=_stringified_fields(call),
                    source=_where(path, text, match.start()),
                )
            )
    for match in _EVENT.finditer(text):
        inventory.webhook_events.append(
            Reference(name=match.group(1), source=_where(path, text, match.start()))
        )
    for match in _ENV.finditer(text):
        inventory.env_agent_names.append(
            Reference(name=match.group(1), source=_where(path, text, match.start()))
        )
    inventory.session_enders.extend(_session_enders(path, lines))
    if is_webhook_handler:
        inventory.handler_issues.extend(_handler_issues(path, text))
    return inventory


def _handler_issues(path: Path, text: str) -> list[Reference]:
    """The three mistakes of the webhook handler the seed user was given."""
    issues: list[Reference] = []
    for match in _ROOM_FROM_DATA.finditer(text):
        issues.append(
            Reference(name=HandlerIssue.ROOM_FROM_DATA, source=_where(path, text, match.start()))
        )
    for receiver in sorted(set(_RECEIVER.findall(text))):
        for match in re.finditer(rf"\b{re.escape(receiver)}\s*\.\s*receive\s*\(", text):
            line_start = text.rfind("\n", 0, match.start()) + 1
            before = text[line_start : match.start()]
            after = text[match.end() : match.end() + 400].split(";", 1)[0]
            if "await" not in before and ".then" not in after and "return" not in before:
                issues.append(
                    Reference(
                        name=HandlerIssue.RECEIVE_NOT_AWAITED,
                        source=_where(path, text, match.start()),
                    )
                )
    for match in _API_CLIENT.finditer(text):
        issues.append(
            Reference(
                name=f"{HandlerIssue.CLIENT_WITHOUT_CREDENTIALS}: {match.group(1)}",
                source=_where(path, text, match.start()),
            )
        )
    return issues


def _stringified_fields(call: str) -> dict[str, MetadataValue] | None:
    """The fields of `metadata: JSON.stringify({ key: 'literal', ... })`; None when not literal."""
    match = _STRINGIFY.search(call)
    if match is None:
        return None
    fields: dict[str, MetadataValue] = {}
    for pair in _PAIR.finditer(match.group(1)):
        key = pair.group("key").strip("'\"")
        literal = pair.group("single") if pair.group("single") is not None else pair.group("double")
        fields[key] = MetadataValue(value=literal, expression=pair.group("value").strip())
    return fields


def scan_env_file(path: Path) -> Inventory:
    """Scan a dotenv file for `LIVEKIT_AGENT_NAME=` and `LIVEKIT_AGENT_NAME_OVERRIDE=`."""
    inventory = Inventory(files=[str(path)])
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if match := _ENV_ASSIGNMENT.match(line):
            inventory.env_agent_names.append(
                Reference(name=match.group(1), source=f"{path}:{number}")
            )
    return inventory


def _session_enders(path: Path, lines: list[str]) -> list[Reference]:
    """Where the UI ends the session because the agent failed or left."""
    text = "\n".join(lines)
    watches_agent_failure = bool(_USE_AGENT_ERRORS.search(text) or _FAILED_STATE.search(text))
    enders: list[Reference] = []
    for number, line in enumerate(lines, start=1):
        if watches_agent_failure and _END_SESSION.search(line):
            enders.append(Reference(name="end() on agent failure", source=f"{path}:{number}"))
        elif re.search(r"\buseAgentErrors\s*\(", line) and not _defines_hook(line):
            enders.append(Reference(name="useAgentErrors()", source=f"{path}:{number}"))
    return enders


def _defines_hook(line: str) -> bool:
    return bool(re.search(r"(function|const|let)\s+useAgentErrors\b", line))


def _where(path: Path, text: str, offset: int) -> str:
    return f"{path}:{text.count(chr(10), 0, offset) + 1}"
