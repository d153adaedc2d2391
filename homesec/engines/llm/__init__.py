"""LLM engines that score a batch of detections; see :mod:`homesec.engines.llm.base`.

Importing this package starts nothing and imports neither httpx clients nor vLLM; the factory
builds the engine the settings ask for.
"""

from homesec.engines.llm.base import (
    LlmBadResponse,
    LlmConfigError,
    LlmEngine,
    LlmError,
    LlmIgnoresSchema,
    LlmUnavailable,
    ProbedLlmEngine,
)
from homesec.engines.llm.factory import choose_llm_engine, create_llm_engine, scored_by

__all__ = [
    "LlmBadResponse",
    "LlmConfigError",
    "LlmEngine",
    "LlmError",
    "LlmIgnoresSchema",
    "LlmUnavailable",
    "ProbedLlmEngine",
    "choose_llm_engine",
    "create_llm_engine",
    "scored_by",
]
