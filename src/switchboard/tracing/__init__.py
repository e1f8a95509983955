"""One call as one trace: the steps, rebuilt from the store or emitted over OpenTelemetry."""

from switchboard.tracing.steps import Step

__all__ = ["Step"]
