"""The qualifier and outbound-caller agents, their YAML config, and their pure dialogue engines."""

from switchboard.agents.briefing import BriefingDialogue, BriefingTurn, Decision, parse_decision
from switchboard.agents.config import (
    AgentsConfig,
    AgentsConfigError,
    ConfigIssue,
    load_config,
    parse_config,
)
from switchboard.agents.dialogue import (
    Outcome,
    Phase,
    QualificationDialogue,
    QualificationResult,
    Turn,
)
from switchboard.agents.jobs import JobMetadataError, OutboundCallJob
from switchboard.agents.providers import ProviderPlan, select_providers

__all__ = [
    "AgentsConfig",
    "AgentsConfigError",
    "BriefingDialogue",
    "BriefingTurn",
    "ConfigIssue",
    "Decision",
    "JobMetadataError",
    "OutboundCallJob",
    "Outcome",
    "Phase",
    "ProviderPlan",
    "QualificationDialogue",
    "QualificationResult",
    "Turn",
    "load_config",
    "parse_config",
    "parse_decision",
    "run",
    "select_providers",
]


def run(agent: str, argv: list[str] | None = None) -> None:
    """Run the ``qualifier`` or ``outbound-caller`` worker (``switchboard agent NAME``)."""
    from switchboard.agents.launcher import run as run_worker  # imports livekit-agents

    run_worker(agent, argv)
