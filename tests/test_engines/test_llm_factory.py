"""Choosing and building the LLM engine; the GPU probe behind the choice."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest

from homesec.contract.analysis import ScoredBy
from homesec.engines import gpu
from homesec.engines.gpu import gpu_count
from homesec.engines.llm import LlmConfigError, choose_llm_engine, create_llm_engine, scored_by
from homesec.engines.llm.openai_compatible import OpenAICompatibleEngine
from homesec.engines.llm.rules import RULES_SCORER, RulesEngine
from homesec.policy.prompt import PROMPT_VERSION
from homesec.policy.scoring import RULES_VERSION
from tests.support.settings import make_settings

URL = "http://127.0.0.1:8080/v1"


@pytest.mark.parametrize(
    ("engine", "url", "vllm", "gpu_present", "expected"),
    [
        # auto: vLLM needs both the package and a GPU
        ("auto", None, True, True, "vllm"),
        ("auto", URL, True, True, "vllm"),
        ("auto", URL, True, False, "openai"),
        ("auto", URL, False, True, "openai"),
        ("auto", URL, False, False, "openai"),
        ("auto", None, True, False, "rules"),
        ("auto", None, False, True, "rules"),
        ("auto", None, False, False, "rules"),
        # an explicit choice wins, even where it cannot run (building it then says why)
        ("vllm", None, False, False, "vllm"),
        ("openai", None, True, True, "openai"),
        ("rules", URL, True, True, "rules"),
    ],
)
def test_choose_llm_engine(tmp_path, engine, url, vllm, gpu_present, expected):
    chosen = choose_llm_engine(
        make_settings(tmp_path, foscam_base_path=tmp_path, llm_engine=engine, llm_url=url),
        vllm_available=vllm,
        gpu_available=gpu_present,
    )
    assert chosen == expected


def test_gpu_count_never_raises():
    count = gpu_count()
    assert isinstance(count, int) and count >= 0
    if not Path("/dev/nvidiactl").exists():
        assert count == 0


def test_gpu_count_is_zero_when_nvml_fails(monkeypatch):
    import pynvml

    def broken() -> None:
        raise pynvml.NVMLError(pynvml.NVML_ERROR_LIBRARY_NOT_FOUND)

    monkeypatch.setattr(pynvml, "nvmlInit", broken)
    assert gpu.gpu_count() == 0


def test_gpu_count_is_zero_without_pynvml(monkeypatch):
    monkeypatch.setitem(sys.modules, "pynvml", None)  # makes `import pynvml` fail
    assert gpu.gpu_count() == 0


async def test_create_builds_and_logs_the_choice(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="homesec.engines.llm.factory")
    engine = create_llm_engine(
        make_settings(tmp_path, foscam_base_path=tmp_path, llm_engine="rules")
    )
    assert isinstance(engine, RulesEngine)
    assert "LLM engine rules" in caplog.text

    engine = create_llm_engine(
        make_settings(tmp_path, foscam_base_path=tmp_path, llm_engine="openai", llm_url=URL)
    )
    assert isinstance(engine, OpenAICompatibleEngine)
    await engine.aclose()


def test_create_explicit_openai_without_a_url_fails_clearly(tmp_path):
    with pytest.raises(LlmConfigError, match="LLM_URL"):
        create_llm_engine(make_settings(tmp_path, foscam_base_path=tmp_path, llm_engine="openai"))


# --- who scored an event -----------------------------------------------------------------------
class Named:
    """An engine that says nothing of its model or prompt."""

    def __init__(self, name: str) -> None:
        self.name = name


def test_an_event_records_who_scored_it():
    assert scored_by(RulesEngine(), "qwen") == RULES_SCORER
    assert ScoredBy(engine="rules", model=None, prompt_version=RULES_VERSION) == RULES_SCORER
    # Named like the rules engine: the rules' identity, whatever it lacks.
    assert scored_by(Named("rules"), "qwen") == RULES_SCORER
    # An LLM engine that does not say: LLM_MODEL and policy/prompt.py's version.
    assert scored_by(Named("openai"), "qwen") == ScoredBy(
        engine="openai", model="qwen", prompt_version=PROMPT_VERSION
    )
    # One that says (vLLM's engine may): its own.
    saying = Named("vllm")
    saying.model, saying.prompt_version = "served-model", "p-7"  # type: ignore[attr-defined]
    assert scored_by(saying, "qwen") == ScoredBy(
        engine="vllm", model="served-model", prompt_version="p-7"
    )
