"""One call as one trace: the steps, rebuilt from the store or emitted over OpenTelemetry.

The model (``CallTrace``...) needs nothing but the standard library; rebuilding it from the store
is ``switchboard.tracing.rebuild`` (``build_trace``, ``load_trace``), which needs the store.
"""

from switchboard.tracing.steps import Step
from switchboard.tracing.trace import Bar, CallTrace, Lane, LaneRole, Mark

__all__ = ["Bar", "CallTrace", "Lane", "LaneRole", "Mark", "Step"]
