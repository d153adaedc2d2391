"""Which LLM engine to run, and building it.

``LLM_ENGINE`` set to ``vllm``, ``openai`` or ``rules`` is obeyed. ``auto`` takes the best this
machine can do: vLLM when it is installed and a GPU is present, else the OpenAI-compatible
server when ``LLM_URL`` is set, else the rules engine.
"""

from __future__ import annotations

import importlib.util
import logging

from homesec.contract.analysis import ScoredBy
from homesec.engines.gpu import gpu_count
from homesec.engines.llm.base import LlmEngine
from homesec.engines.llm.rules import RULES_SCORER
from homesec.policy.prompt import PROMPT_VERSION
from homesec.settings import Settings

log = logging.getLogger(__name__)


def choose_llm_engine(settings: Settings, *, vllm_available: bool, gpu_available: bool) -> str:
    """The engine's name: ``"vllm"``, ``"openai"`` or ``"rules"``. Pure."""
    if settings.llm_engine != "auto":
        return settings.llm_engine
    if vllm_available and gpu_available:
        return "vllm"
    if settings.llm_url:
        return "openai"
    return "rules"


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def create_llm_engine(settings: Settings) -> LlmEngine:
    """The engine :func:`choose_llm_engine` picks on this machine, built; logs the choice."""
    vllm_available = vllm_installed()
    gpus = gpu_count()
    choice = choose_llm_engine(settings, vllm_available=vllm_available, gpu_available=gpus > 0)
    log.info(
        "LLM engine %s (LLM_ENGINE=%s, vLLM %s, %d GPU(s), LLM_URL %s)",
        choice,
        settings.llm_engine,
        "installed" if vllm_available else "not installed",
        gpus,
        "set" if settings.llm_url else "not set",
    )
    if choice == "vllm":
        from homesec.engines.llm.vllm_engine import VllmEngine

        return VllmEngine(settings)
    if choice == "openai":
        from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine

        return OpenAICompatibleEngine.from_settings(settings)
    from homesec.engines.llm.rules import RulesEngine

    return RulesEngine()


def scored_by(engine: LlmEngine, configured_model: str) -> ScoredBy:
    """Who ``engine`` is, as an event records it: its name, model and prompt version (an engine
    may say; the LLM engines' model is ``LLM_MODEL``, their prompt policy/prompt.py's)."""
    if engine.name == "rules":
        return RULES_SCORER
    model = getattr(engine, "model", None) or configured_model
    version = getattr(engine, "prompt_version", None) or PROMPT_VERSION
    return ScoredBy(engine=engine.name, model=str(model), prompt_version=str(version))
