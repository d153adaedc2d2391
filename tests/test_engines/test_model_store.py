"""Pulling models and finding them again, without ever touching the network."""

from __future__ import annotations

import time

import pytest

from homesec.contract.errors import HomesecError
from homesec.engines.model_store import (
    ModelPullError,
    models_dir,
    pull_model,
    pulled_model_dir,
    resolve_model_path,
)
from tests.support.settings import make_settings


@pytest.fixture
def offline(monkeypatch):
    """The Hub unreachable by configuration: huggingface_hub reads the variable at import,
    so the constant is patched too."""
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)


def test_pull_offline_fails_quickly_and_says_what_to_do(tmp_path, offline):
    started = time.monotonic()
    with pytest.raises(ModelPullError) as caught:
        pull_model("PekingU/rtdetr_v2_r50vd", tmp_path / "models", progress=False)
    assert time.monotonic() - started < 10
    message = str(caught.value)
    assert "could not download PekingU/rtdetr_v2_r50vd" in message
    assert "DETECTOR_MODEL" in message and "copy" in message
    assert isinstance(caught.value, HomesecError)  # the CLI prints it as one line


@pytest.mark.parametrize("model_id", ["../etc", "/abs/path", "a/b/c", "", "owner/../x"])
def test_pull_rejects_what_is_not_a_hub_id(tmp_path, model_id):
    with pytest.raises(ModelPullError, match="not a Hugging Face model id"):
        pull_model(model_id, tmp_path, progress=False)


def test_pulled_models_live_under_the_data_dir(tmp_path):
    root = models_dir(make_settings(tmp_path, foscam_base_path=tmp_path))
    assert root == tmp_path / "models"
    assert pulled_model_dir(root, "PekingU/rtdetr_v2_r50vd") == root / "PekingU" / "rtdetr_v2_r50vd"


def test_resolve_prefers_a_local_directory(tmp_path):
    local = tmp_path / "my-model"
    local.mkdir()
    assert resolve_model_path(
        make_settings(tmp_path, foscam_base_path=tmp_path, detector_model=str(local))
    ) == str(local)


def test_resolve_finds_a_pulled_copy(tmp_path):
    pulled = tmp_path / "models" / "PekingU" / "rtdetr_v2_r50vd"
    pulled.mkdir(parents=True)
    assert (
        resolve_model_path(make_settings(tmp_path, foscam_base_path=tmp_path))
        == "PekingU/rtdetr_v2_r50vd"
    )  # incomplete
    (pulled / "config.json").write_text("{}")
    assert resolve_model_path(make_settings(tmp_path, foscam_base_path=tmp_path)) == str(pulled)


def test_resolve_falls_back_to_the_id(tmp_path):
    assert (
        resolve_model_path(make_settings(tmp_path, foscam_base_path=tmp_path))
        == "PekingU/rtdetr_v2_r50vd"
    )
    assert (
        resolve_model_path(make_settings(tmp_path, foscam_base_path=tmp_path), "org/llm")
        == "org/llm"
    )
