"""SIP trunks and dispatch rules: loops (482), unrouted trunks (404), dangling ids, attributes."""

from __future__ import annotations

import difflib
import re

from switchboard.doctor.checks.dataflow import Origin, TracedDial, normalize_number, trace_dials
from switchboard.doctor.findings import CheckCode, Finding, Severity
from switchboard.doctor.inventory import InboundTrunk, Inventory, OutboundTrunk

DIALS_OWN_NUMBER = CheckCode("SB201", "Outbound calls route straight back into this project")
SHARED_CARRIER_TRUNK = CheckCode("SB202", "Outbound and inbound sides share a carrier trunk")
TRUNK_WITHOUT_RULE = CheckCode("SB203", "Inbound trunk has no dispatch rule")
RULE_NAMES_MISSING_TRUNK = CheckCode("SB204", "Dispatch rule names a trunk that does not exist")
UNMAPPED_ATTRIBUTE = CheckCode("SB205", "Rules condition on an attribute nothing sets")

BUILT_IN_ATTRIBUTE_PREFIXES = ("sip.", "lk.")
_HIDDEN_BY_HIDE_PHONE_NUMBER = frozenset(
    {"sip.phoneNumber", "sip.hostname", "sip.trunkPhoneNumber"}
)
_LIVEKIT_SIP_DOMAINS = ("sip.livekit.cloud",)
_CARRIER_DOMAINS = {
    "Twilio": ("pstn.twilio.com", "sip.twilio.com", "twilio.com"),
    "Telnyx": ("sip.telnyx.com", "telnyx.com"),
    "Plivo": ("plivo.com",),
    "Vonage": ("vonage.com", "nexmo.com"),
    "Bandwidth": ("bandwidth.com",),
}
_LOOP_EFFECT = (
    "the carrier routes the INVITE back to LiveKit through the same trunk and answers the looped "
    "request with SIP 482 Loop Detected, so CreateSIPParticipant fails with `sip status: 482`"
)


def host_of(address: str) -> str:
    """The host part of a trunk address (`host`, `host:port`, `sip:user@host;transport=tcp`)."""
    host = re.sub(r"^sips?:", "", address.strip()).split("@")[-1]
    return re.split(r"[:;/]", host, maxsplit=1)[0].lower()


def carrier_of_address(address: str) -> str | None:
    """The carrier a SIP address belongs to, by domain."""
    host = host_of(address)
    for carrier, domains in _CARRIER_DOMAINS.items():
        if any(host == domain or host.endswith("." + domain) for domain in domains):
            return carrier
    return None


def carrier_of_inbound(trunk: InboundTrunk) -> tuple[str, str] | None:
    """The carrier an inbound trunk receives from, and the evidence for it."""
    for address in trunk.allowed_addresses:
        if carrier := carrier_of_address(address):
            return carrier, f"allowed address {address}"
    for header in trunk.headers_to_attributes:
        for carrier in _CARRIER_DOMAINS:
            if header.lower().startswith(f"x-{carrier.lower()}"):
                return carrier, f"maps header {header}"
    text = f"{trunk.name} {trunk.metadata}".lower()
    for carrier in _CARRIER_DOMAINS:
        if carrier.lower() in text:
            return carrier, f"its name says {carrier}"
    return None


def check_dials_own_number(inventory: Inventory) -> list[Finding]:
    """SB201: a dialled number is an inbound number, or the outbound trunk points at LiveKit.

    The number is followed through job and room metadata to the code that sent it.
    """
    findings: list[Finding] = []
    for traced in trace_dials(inventory):
        findings.extend(_loop_finding(traced, origin) for origin in traced.loops)
    for outbound in inventory.outbound_trunks:
        host = host_of(outbound.address)
        if any(host == domain or host.endswith("." + domain) for domain in _LIVEKIT_SIP_DOMAINS):
            findings.append(
                DIALS_OWN_NUMBER.finding(
                    Severity.ERROR,
                    f"{outbound.label} sends calls to {outbound.address}, a LiveKit SIP endpoint: "
                    "outbound calls arrive back as inbound calls to LiveKit instead of reaching "
                    "the phone network.",
                    [f"{outbound.source}: address {outbound.address}"],
                    "Set the outbound trunk address to your carrier's termination URI (for "
                    "Twilio: <name>.pstn.twilio.com), not the LiveKit SIP URI.",
                )
            )
    return findings


def _loop_finding(traced: TracedDial, origin: Origin) -> Finding:
    dial = traced.dial
    number = origin.number
    on_trunk = f" on {origin.trunk.label}" if origin.trunk else ""
    if dial.literal:
        message = (
            f"CreateSIPParticipant dials {number}, an inbound number{on_trunk}: the call leaves "
            f"through the outbound trunk and comes back into this project; {_LOOP_EFFECT}."
        )
        evidence = [f"{dial.source}: {origin.detail}"]
    else:
        message = (
            f"The dial at {dial.source} takes its number from the {dial.metadata_origin} "
            f"metadata field {dial.metadata_field!r}, "
            f"and {origin.source} fills it with {number}, an inbound number{on_trunk}: the "
            f"call goes out and comes straight back into this project; {_LOOP_EFFECT}."
        )
        evidence = [
            f"{origin.source}: {origin.detail}",
            f"{dial.source}: dials {dial.expression}",
        ]
    if origin.trunk:
        evidence.append(f"{origin.trunk.source}: {origin.trunk.label} {number}")
    return DIALS_OWN_NUMBER.finding(
        Severity.ERROR,
        message,
        evidence,
        "Dial the customer's (or the human's) number, never one of this project's inbound "
        "numbers. To bring another agent into a call, dispatch it into the room "
        "(CreateRoomRequest.agents, or CreateDispatch into an existing room) instead of "
        "calling yourself over SIP.",
    )


def check_shared_carrier_trunk(inventory: Inventory) -> list[Finding]:
    """SB202: one carrier trunk both ways, and the doctor cannot see every number dialled.

    One Twilio trunk for both directions is LiveKit's recommended setup, so it alone is only
    `info`. It is a `warning` when scanned code dials a number the doctor cannot trace; when every
    traced number is outside the project, there is nothing to report.
    """
    traced = trace_dials(inventory)
    untraced = [dial for dial in traced if dial.unknown]
    if traced and not untraced:
        return []
    findings: list[Finding] = []
    for outbound in inventory.outbound_trunks:
        for inbound in inventory.inbound_trunks:
            reasons = _shared_trunk_reasons(outbound, inbound)
            if reasons:
                findings.append(_shared_trunk_finding(outbound, inbound, reasons, untraced))
    return findings


def _shared_trunk_reasons(outbound: OutboundTrunk, inbound: InboundTrunk) -> list[str]:
    reasons: list[str] = []
    inbound_numbers = {normalize_number(number) for number in inbound.numbers}
    shared = [number for number in outbound.numbers if normalize_number(number) in inbound_numbers]
    if shared:
        reasons.append(f"both trunks carry {', '.join(shared)}")
    host = host_of(outbound.address)
    if host and host in {host_of(address) for address in inbound.allowed_addresses}:
        reasons.append(f"the inbound trunk accepts calls from {host}, where outbound calls go")
    carrier = carrier_of_address(outbound.address)
    inbound_carrier = carrier_of_inbound(inbound)
    if carrier and inbound_carrier and inbound_carrier[0] == carrier:
        reasons.append(
            f"outbound calls go to {outbound.address} ({carrier} termination) and the inbound "
            f"trunk receives from {carrier} ({inbound_carrier[1]})"
        )
    return reasons


def _shared_trunk_finding(
    outbound: OutboundTrunk, inbound: InboundTrunk, reasons: list[str], untraced: list[TracedDial]
) -> Finding:
    own = ", ".join(inbound.numbers) or "the project's own numbers"
    carrier = carrier_of_address(outbound.address) or "the carrier"
    twilio = (
        " In Twilio, a number whose Elastic SIP trunk origination URI points at LiveKit is "
        "'your own': keep the termination trunk used for outbound calls separate from it, or "
        "check each number's routing before dialling."
        if carrier == "Twilio"
        else ""
    )
    dials = [
        f"{dial.dial.source}: dials {dial.dial.expression or 'a number'}"
        + (f" ({', '.join(o.detail for o in dial.origins)})" if dial.origins else "")
        for dial in untraced
    ]
    if dials:
        scope = (
            f" The doctor cannot tell which numbers {len(dials)} dial(s) in the scanned code call."
        )
        silence = (
            " When a dial only ever calls numbers outside the project, say so on its line: "
            "`# switchboard: ignore[SB202]`."
        )
    else:
        scope = (
            " This is LiveKit's recommended setup and breaks nothing by itself; no scanned code "
            "dials out (pass the agents with --file to check their numbers)."
        )
        silence = ""
    return SHARED_CARRIER_TRUNK.finding(
        Severity.WARNING if dials else Severity.INFO,
        f"{outbound.label} and {inbound.label} use the same {carrier} trunk: "
        f"{'; '.join(reasons)}. Dialling any number that {carrier} routes back into this LiveKit "
        f"project (such as {own}) loops: {_LOOP_EFFECT}.{scope}",
        [*dials, f"{outbound.source}: {outbound.label}", f"{inbound.source}: {inbound.label}"],
        f"Make sure sip_call_to is a number outside this project, never {own}; to hand a call to "
        "another agent, dispatch that agent into a room (CreateRoomRequest.agents) instead of "
        f"dialling yourself over SIP.{twilio}{silence}",
    )


def check_trunk_without_rule(inventory: Inventory) -> list[Finding]:
    """SB203: an inbound trunk that no dispatch rule covers rejects every call with 404."""
    rules = inventory.dispatch_rules
    if any(not rule.trunk_ids for rule in rules):
        return []
    covered = {trunk_id for rule in rules for trunk_id in rule.trunk_ids}
    findings: list[Finding] = []
    for trunk in inventory.inbound_trunks:
        if trunk.trunk_id in covered or (rules and not trunk.trunk_id):
            continue
        complete = bool(rules) or inventory.server_read
        near = [
            f"{rule.source}: {rule.label} names {trunk_id!r}"
            for rule in rules
            for trunk_id in rule.trunk_ids
            if trunk.trunk_id and difflib.get_close_matches(trunk.trunk_id, [trunk_id], cutoff=0.8)
        ]
        scope = "" if complete else " (No dispatch rule was loaded; pass them with --file.)"
        findings.append(
            TRUNK_WITHOUT_RULE.finding(
                Severity.ERROR if complete else Severity.INFO,
                f"Calls to {', '.join(trunk.numbers) or trunk.label} match {trunk.label}, but "
                "no dispatch rule applies to that trunk, so livekit-sip rejects them with 404 "
                f"'Does not match Trunks or Dispatch Rules'.{scope}",
                [f"{trunk.source}: {trunk.label}", *near],
                f"Add {trunk.trunk_id or 'the trunk id'} to a dispatch rule's trunk_ids (or "
                "leave trunk_ids empty to match every trunk).",
            )
        )
    return findings


def check_rule_names_missing_trunk(inventory: Inventory) -> list[Finding]:
    """SB204: a dispatch rule's trunk_ids names a trunk that is not there."""
    if not inventory.inbound_trunks and not inventory.server_read:
        return []
    inbound_ids = [trunk.trunk_id for trunk in inventory.inbound_trunks if trunk.trunk_id]
    outbound_ids = {trunk.trunk_id for trunk in inventory.outbound_trunks}
    findings: list[Finding] = []
    for rule in inventory.dispatch_rules:
        for trunk_id in rule.trunk_ids:
            if trunk_id in inbound_ids:
                continue
            close = difflib.get_close_matches(trunk_id, inbound_ids, n=1, cutoff=0.8)
            hint = f" Did you mean {close[0]}?" if close else ""
            if trunk_id in outbound_ids:
                hint = " It is an outbound trunk: dispatch rules only apply to inbound trunks."
            certain = inventory.server_read or bool(close) or trunk_id in outbound_ids
            findings.append(
                RULE_NAMES_MISSING_TRUNK.finding(
                    Severity.ERROR if certain else Severity.WARNING,
                    f"{rule.label} applies to trunk {trunk_id}, which is not an inbound trunk "
                    f"here, so the rule never matches a call through it.{hint}",
                    [f"{rule.source}: trunkIds {rule.trunk_ids}"]
                    + [f"{trunk.source}: {trunk.label}" for trunk in inventory.inbound_trunks],
                    f"Set the rule's trunk_ids to the inbound trunk's id"
                    f"{' (' + close[0] + ')' if close else ''}, e.g. `lk sip dispatch update "
                    f"--id {rule.rule_id or '<rule id>'} --trunks <trunk id>`, or leave "
                    "trunk_ids empty to match every inbound trunk.",
                )
            )
    return findings


def check_unmapped_attribute(inventory: Inventory) -> list[Finding]:
    """SB205: a rules-file condition reads a custom attribute that no trunk or rule provides."""
    mappings = [trunk.headers_to_attributes for trunk in inventory.inbound_trunks]
    mappings += [trunk.headers_to_attributes for trunk in inventory.outbound_trunks]
    provided = {attribute for mapping in mappings for attribute in mapping.values()}
    provided |= {key for rule in inventory.dispatch_rules for key in rule.attributes}
    provided |= {reference.name for reference in inventory.attribute_setters}
    hidden = bool(inventory.dispatch_rules) and all(
        rule.hide_phone_number for rule in inventory.dispatch_rules
    )
    sip_known = bool(inventory.inbound_trunks or inventory.dispatch_rules or inventory.server_read)
    findings: list[Finding] = []
    for rules_file in inventory.rules_files:
        for reference in rules_file.attributes:
            name = reference.name
            if hidden and name in _HIDDEN_BY_HIDE_PHONE_NUMBER:
                findings.append(
                    UNMAPPED_ATTRIBUTE.finding(
                        Severity.WARNING,
                        f"The condition reads {name}, but every dispatch rule sets "
                        "hide_phone_number, so LiveKit never sets it.",
                        [f"{reference.source}: {name}"],
                        "Turn hide_phone_number off on the rule, or condition on another "
                        "attribute.",
                    )
                )
            elif not name.startswith(BUILT_IN_ATTRIBUTE_PREFIXES) and name not in provided:
                findings.append(_unmapped(reference.source, name, sorted(provided), sip_known))
    return findings


def _unmapped(source: str, name: str, provided: list[str], sip_known: bool) -> Finding:
    known = f" Attributes that are set: {', '.join(provided)}." if provided else ""
    scope = "" if sip_known else " (no trunk or dispatch rule was loaded to compare with)"
    return UNMAPPED_ATTRIBUTE.finding(
        Severity.WARNING if sip_known else Severity.INFO,
        f"The condition reads attribute {name!r}, but no trunk's headers_to_attributes, no "
        f"dispatch rule's attributes and no scanned code sets it{scope}, so the condition "
        f"never sees a value.{known}",
        [f"{source}: {name}"],
        f'Map the SIP header onto it on the inbound trunk (`"headersToAttributes": {{"X-My-'
        f'Header": "{name}"}}`), set it in the dispatch rule\'s attributes, or use a built-in '
        "sip.* attribute.",
    )
