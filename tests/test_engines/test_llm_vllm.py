"""The vLLM engine: its request is built by pure functions, checked here without vLLM; the
engine itself runs only where vLLM and a GPU are."""

from __future__ import annotations

import datetime as dt
import importlib.util
from types import SimpleNamespace

import pytest

from homesec.contract.analysis import AnalysisContext, DetectionSummary
from homesec.engines.llm import LlmConfigError
from homesec.engines.llm.vllm_engine import (
    MAX_MODEL_LEN,
    VllmEngine,
    build_sampling_params,
    engine_arguments,
)
from homesec.policy.prompt import RISK_ASSESSMENT_SCHEMA
from tests.support.settings import make_settings


class Recorder:
    """Stands in for a vLLM parameter class: remembers its keyword arguments."""

    def __init__(self, **kwargs):
        self.kwargs = kwargs


def test_sampling_params_use_structured_outputs_on_current_vllm():
    module = SimpleNamespace(SamplingParams=Recorder, StructuredOutputsParams=Recorder)
    params = build_sampling_params(module)
    assert params.kwargs["temperature"] == 0.0
    assert params.kwargs["structured_outputs"].kwargs == {"json": RISK_ASSESSMENT_SCHEMA}
    assert "guided_decoding" not in params.kwargs


def test_sampling_params_fall_back_to_guided_decoding_on_older_vllm():
    module = SimpleNamespace(SamplingParams=Recorder, GuidedDecodingParams=Recorder)
    params = build_sampling_params(module)
    assert params.kwargs["guided_decoding"].kwargs == {"json": RISK_ASSESSMENT_SCHEMA}


def test_engine_arguments(tmp_path):
    arguments = engine_arguments(
        make_settings(
            tmp_path, foscam_base_path=tmp_path, llm_model="org/model", llm_gpu_fraction=0.4
        )
    )
    assert arguments == {
        "model": "org/model",
        "gpu_memory_utilization": 0.4,
        "max_model_len": MAX_MODEL_LEN,
    }


def test_engine_arguments_prefer_a_pulled_copy(tmp_path):
    pulled = tmp_path / "models" / "org" / "model"
    pulled.mkdir(parents=True)
    (pulled / "config.json").write_text("{}")
    assert engine_arguments(
        make_settings(tmp_path, foscam_base_path=tmp_path, llm_model="org/model")
    )["model"] == str(pulled)


@pytest.mark.skipif(
    importlib.util.find_spec("vllm") is not None, reason="checks the error where vLLM is absent"
)
def test_without_vllm_the_error_names_the_extra(tmp_path):
    with pytest.raises(LlmConfigError, match=r"pip install 'homesec\[gpu\]'"):
        VllmEngine(make_settings(tmp_path, foscam_base_path=tmp_path))


@pytest.mark.gpu
async def test_a_real_assessment(tmp_path):
    pytest.importorskip("vllm", reason="vLLM is not installed (pip install 'homesec[gpu]')")
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("vLLM needs a CUDA GPU")
    now = dt.datetime.now(dt.UTC)
    context = AnalysisContext(
        camera_id="door",
        camera_name="Front Door",
        local_time=now,
        detections=[
            DetectionSummary(detection_id=1, object_type="person", confidence=0.9, detected_at=now)
        ],
    )
    engine = VllmEngine(
        make_settings(tmp_path, foscam_base_path=tmp_path)
    )  # LLM_MODEL must be in the local cache
    try:
        result = await engine.assess(context)
    finally:
        await engine.aclose()
    assert 0 <= result.risk_score <= 100 and result.summary
