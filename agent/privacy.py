"""Every dependency's telemetry and tracing switched off, before the dependency loads.

Offline means no connection attempt at all, not one that fails. onnxruntime >= 1.29 reports
telemetry on Linux unless `ORT_DISABLE_TELEMETRY` is set before it initialises
(`disable_telemetry_events()` does not stop it); Chroma reports unless told not to; LangGraph
runs send traces to LangSmith whenever `LANGSMITH_TRACING` is set in the caller's environment,
which would ship the candidate's answers to a hosted service. The values are forced, not
defaulted: a user's environment cannot turn them back on for this program.
"""

from __future__ import annotations

import os

#: Environment variables, and the values that switch each dependency's reporting off.
OPT_OUTS = {
    "ORT_DISABLE_TELEMETRY": "1",
    "ANONYMIZED_TELEMETRY": "False",
    "LANGSMITH_TRACING": "false",
    "LANGSMITH_TRACING_V2": "false",
    "LANGCHAIN_TRACING_V2": "false",
    "LANGCHAIN_TRACING": "false",
    "HF_HUB_OFFLINE": "1",
    "HF_HUB_DISABLE_TELEMETRY": "1",
}


def opt_out() -> None:
    """Set every opt-out in this process's environment (call before importing the dependency)."""
    os.environ.update(OPT_OUTS)
