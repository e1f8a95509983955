"""The bundled agents under other names: a whole call with a renamed qualifier and
outbound-caller, and a qualifier whose config names an outbound-caller nobody runs.

The qualifier is renamed on the command line (``--agent-name acme-qualifier``), the
outbound-caller in the config both use (``outbound_caller.name: acme-caller``), which is also
the name the qualifier dispatches. The seed rules, with ``qualifier`` renamed, send calls to
+19497710000 to ``acme-qualifier``; calls to +19497710001 go to ``lonely-qualifier``, a third
worker whose config dispatches ``missing-caller``, which no worker registers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from livekit import api

from switchboard.stack.process import ManagedProcess
from tests.integration.callflow.conftest import (
    CALLED,
    HUMAN_NUMBER,
    SEED_RULES,
    CallFlowSystem,
    agents_config,
    start_agent,
    start_callflow_system,
    system_api,
)
from tests.integration.callflow.observe import agent_names, caller_room, participants
from tests.support.participants import eventually
from tests.support.sipp import start_dtmf_caller, start_uas

pytestmark = [pytest.mark.sip, pytest.mark.timeout(240)]

QUALIFIER, OUTBOUND_CALLER = "acme-qualifier", "acme-caller"
LONELY, MISSING = "lonely-qualifier", "missing-caller"
LONELY_LINE = "+19497710001"
DISPATCH_SECONDS = 8


def _renamed_rules(workdir: Path) -> Path:
    """The seed rules dispatching ``acme-qualifier``, plus a line for ``lonely-qualifier``."""
    text = SEED_RULES.read_text().replace("- agent: qualifier\n", f"- agent: {QUALIFIER}\n")
    assert f"agent: {QUALIFIER}" in text
    lonely = f"""\
  - id: lonely
    when:
      event: participant_joined
      participant.kind: SIP
      sip.trunkPhoneNumber: "{LONELY_LINE}"
    then:
      dispatch: [{LONELY}]

default: nobody
"""
    path = workdir / "rules.yaml"
    path.write_text(text.replace("default: nobody\n", lonely))
    return path


@pytest.fixture(scope="module")
def renamed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CallFlowSystem]:
    rules = _renamed_rules(tmp_path_factory.mktemp("renamed-rules"))
    override = {
        "outbound_caller": {"name": OUTBOUND_CALLER},
        "transfer": {"targets": {"desk": {"handoff": "direct"}}},
    }
    with start_callflow_system(
        tmp_path_factory,
        override,
        "renamed",
        agent_args={"qualifier": ["--agent-name", QUALIFIER]},
        rules=rules,
        called=[CALLED, LONELY_LINE],
    ) as system:
        yield system


@pytest.fixture(scope="module")
def lonely_qualifier(renamed: CallFlowSystem) -> Iterator[ManagedProcess]:
    config = agents_config(
        renamed.workdir,
        renamed.trunk_id,
        {
            "outbound_caller": {"name": MISSING},
            "timeouts": {"dispatch_seconds": DISPATCH_SECONDS},
        },
        filename="lonely.yaml",
    )
    process = start_agent(
        renamed.stack, "qualifier", config, renamed.workdir, ["--agent-name", LONELY]
    )
    yield process
    process.stop()


@pytest.fixture
async def renamed_api(renamed: CallFlowSystem) -> AsyncIterator[api.LiveKitAPI]:
    async with system_api(renamed) as client:
        yield client


async def test_renamed_agents_complete_the_call(
    renamed: CallFlowSystem, renamed_api: api.LiveKitAPI
) -> None:
    lkapi, host = renamed_api, renamed.stack.config.node_ip
    caller = "+15551230002"
    human = start_uas(renamed.workdir, host, 200, port=renamed.human_port)
    phone = start_dtmf_caller(
        renamed.workdir,
        host,
        renamed.stack.config.sip_address,
        caller=caller,
        called=CALLED,
        digit="1",
        presses=8,
        hold_ms=20000,
    )
    agents_seen: set[str] = set()
    dispatches_seen: set[str] = set()
    try:
        room = await caller_room(lkapi, caller)

        async def human_in_and_agents_gone() -> bool:
            people = await participants(lkapi, room)
            agents_seen.update(agent_names(people))
            dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
            dispatches_seen.update(d.agent_name for d in dispatches)
            return not agent_names(people) and any(
                p.attributes.get("sip.phoneNumber") == HUMAN_NUMBER
                and p.attributes.get("sip.callStatus") == "active"
                for p in people
            )

        await eventually(human_in_and_agents_gone, timeout=120)
        assert agents_seen == {QUALIFIER, OUTBOUND_CALLER}
        assert dispatches_seen <= {QUALIFIER, OUTBOUND_CALLER}
        assert renamed.unnamed.jobs(room) == []
    finally:
        phone.stop()
        human.stop()


async def test_a_qualifier_dispatching_a_name_nobody_runs_says_so(
    renamed: CallFlowSystem, lonely_qualifier: ManagedProcess, renamed_api: api.LiveKitAPI
) -> None:
    lkapi, host = renamed_api, renamed.stack.config.node_ip
    caller = "+15551230003"
    phone = start_dtmf_caller(
        renamed.workdir,
        host,
        renamed.stack.config.sip_address,
        caller=caller,
        called=LONELY_LINE,
        digit="1",
        presses=8,
        hold_ms=20000 + DISPATCH_SECONDS * 1000,
    )
    qualifier: dict[str, str] = {}
    try:
        room = await caller_room(lkapi, caller)

        async def gave_up() -> bool:
            for person in await participants(lkapi, room):
                if person.attributes.get("lk.agent_name") == LONELY:
                    qualifier.update(person.attributes)
            return qualifier.get("switchboard.transfer") == "not_dispatched"

        await eventually(gave_up, timeout=90)
        error = qualifier["switchboard.error"]
        assert f"nothing registered as agent_name {MISSING!r} joined" in error, error
        assert f"switchboard agent outbound-caller --agent-name {MISSING}" in error, error
        assert "outbound_caller.name" in error, error
        dispatches = await lkapi.agent_dispatch.list_dispatch(room_name=room)
        assert sorted(d.agent_name for d in dispatches) == [LONELY, MISSING]
    finally:
        phone.stop()
