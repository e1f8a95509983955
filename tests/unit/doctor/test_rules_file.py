"""Switchboard rules files, loaded by the rules engine: what they dispatch, or their problems."""

from __future__ import annotations

import textwrap
from pathlib import Path

from switchboard.doctor.checks import check_unreadable_input
from switchboard.doctor.loaders import load_paths
from switchboard.doctor.loaders.rules_file import is_rules_document, load_rules_file

RULES = """\
version: 1
rules:
  - id: vip
    when:
      participant.kind: SIP
      participant.attributes[customer_tier]: gold
      any:
        - participant.attributes.call-data: {exists: true}
        - sip.trunkPhoneNumber: "+19497710000"
      percentage: {percent: 10, key: "participant.attributes[region]"}
    then:
      dispatch:
        - qualifier
        - agent: outbound-caller
          metadata: "{participant.attributes[not_a_condition]}"
  - id: closed
    when: always
    then: nobody
default:
  dispatch: [{agent: fallback}]
"""


def test_detects_rules_files_by_version_and_rules_keys() -> None:
    assert is_rules_document(RULES)
    assert not is_rules_document("version: 1\nagents: []\n")
    assert not is_rules_document("- a\n- b\n")


def test_reads_dispatched_agents_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)

    (facts,) = load_rules_file(path).rules_files

    assert [(r.name, r.source) for r in facts.agents] == [
        ("qualifier", f"{path}:13"),
        ("outbound-caller", f"{path}:14"),
        ("fallback", f"{path}:20"),
    ]


def test_reads_only_attributes_used_in_conditions(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(RULES)

    (facts,) = load_rules_file(path).rules_files

    assert [r.name for r in facts.attributes] == [
        "customer_tier",
        "call-data",
        "sip.trunkPhoneNumber",
        "region",
    ]


def test_keys_the_rules_schema_rejects_are_problems_at_their_position(tmp_path: Path) -> None:
    path = tmp_path / "rules.yml"
    path.write_text(
        textwrap.dedent(
            """\
            version: 1
            rules:
              - match:
                  attribute: lead_source
                  attributes: {campaign: spring}
                agents: [{name: qualifier}]
            """
        )
    )

    inventory = load_paths([path])

    assert inventory.rules_files == []
    assert [str(problem).split(" (hint")[0] for problem in inventory.problems] == [
        f"{path}:1:1: missing required key 'default'",
        f"{path}:3:5: missing required key 'id'",
        f"{path}:3:5: missing required key 'then'",
        f"{path}:3:5: missing required key 'when'",
        f"{path}:3:5: unknown key 'match'",
        f"{path}:6:5: unknown key 'agents'",
    ]


def test_a_refused_rules_file_is_an_sb001_finding_with_the_hint(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nrules: []\n")

    (finding,) = check_unreadable_input(load_paths([path]))

    assert finding.evidence == [f"{path}:1:1"]
    assert finding.message.startswith("missing required key 'default' (hint: add 'default:")


def test_other_yaml_is_skipped_in_directories_but_reported_when_named(tmp_path: Path) -> None:
    path = tmp_path / "docker-compose.yaml"
    path.write_text("services: {}\n")

    assert load_paths([tmp_path]).problems == []
    (problem,) = load_paths([path]).problems
    assert "not a Switchboard rules file" in problem.message


def test_invalid_yaml_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text("version: 1\nrules: [\n")

    assert load_paths([path]).problems
