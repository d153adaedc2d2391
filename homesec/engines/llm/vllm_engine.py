"""vLLM in the analyst's own process: the model on the GPU share Ray gave the actor.

vLLM is CUDA-only and optional (``pip install 'homesec[gpu]'``), so it is imported when an engine
is built, never at module import. The request (messages, sampling parameters, engine arguments)
is made by pure functions that tests check without vLLM or a GPU.
"""

from __future__ import annotations

import asyncio
from types import ModuleType
from typing import Any

from homesec.contract.analysis import AnalysisContext, RiskAssessment
from homesec.engines.llm.base import LlmBadResponse, LlmConfigError
from homesec.engines.model_store import resolve_model_path
from homesec.policy.prompt import (
    RISK_ASSESSMENT_SCHEMA,
    AssessmentParseError,
    build_messages,
    parse_assessment,
)
from homesec.settings import Settings

# The prompt is about 1-3k tokens; a short context keeps the KV cache small enough to share
# the GPU with the detector.
MAX_MODEL_LEN = 8192
SAMPLING: dict[str, Any] = {"temperature": 0.0, "max_tokens": 1024}


def engine_arguments(settings: Settings) -> dict[str, Any]:
    """Keyword arguments of ``vllm.LLM`` for these settings."""
    return {
        "model": resolve_model_path(settings, settings.llm_model),
        "gpu_memory_utilization": settings.llm_gpu_fraction,
        "max_model_len": MAX_MODEL_LEN,
    }


def build_sampling_params(sampling_module: ModuleType) -> Any:
    """Greedy sampling constrained to the assessment's JSON schema, for the installed vLLM.

    vLLM renamed guided decoding to structured outputs (``StructuredOutputsParams`` and the
    ``structured_outputs`` field) and removed the old names in 0.12; older releases only have
    ``GuidedDecodingParams`` and ``guided_decoding``.
    """
    structured = getattr(sampling_module, "StructuredOutputsParams", None)
    if structured is not None:
        constraint = {"structured_outputs": structured(json=RISK_ASSESSMENT_SCHEMA)}
    else:
        guided = sampling_module.GuidedDecodingParams
        constraint = {"guided_decoding": guided(json=RISK_ASSESSMENT_SCHEMA)}
    return sampling_module.SamplingParams(**SAMPLING, **constraint)


class VllmEngine:
    """One ``vllm.LLM`` per engine; requests run one at a time in a worker thread, so the
    actor's event loop keeps answering health checks while the GPU works."""

    name = "vllm"

    def __init__(self, settings: Settings) -> None:
        try:
            import vllm
            from vllm import sampling_params
        except ImportError as exc:
            raise LlmConfigError(
                "LLM_ENGINE=vllm needs vLLM, which is not installed: "
                "pip install 'homesec[gpu]' on a machine with an NVIDIA GPU"
            ) from exc
        self._llm = vllm.LLM(**engine_arguments(settings))
        self._sampling = build_sampling_params(sampling_params)
        self._lock = asyncio.Lock()

    async def assess(self, context: AnalysisContext) -> RiskAssessment:
        messages = build_messages(context)
        async with self._lock:
            outputs = await asyncio.to_thread(
                self._llm.chat, messages, sampling_params=self._sampling, use_tqdm=False
            )
        if not outputs or not outputs[0].outputs:
            raise LlmBadResponse("vLLM returned no completion")
        try:
            return parse_assessment(outputs[0].outputs[0].text)
        except AssessmentParseError as exc:
            raise LlmBadResponse(f"the LLM's answer is not a valid assessment: {exc}") from exc

    async def aclose(self) -> None:
        # vLLM frees its GPU memory when the LLM object is collected; the actor exits soon after.
        self._llm = None
