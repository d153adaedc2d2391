"""Camera ids: the normalised folder name, stable across restarts, never empty."""

from __future__ import annotations

import pytest

import homesec.policy.cameras
from homesec.models.camera import InvalidCameraId, normalize_camera_id


def test_models_reexport_the_pipeline_function() -> None:
    assert normalize_camera_id is homesec.policy.cameras.normalize_camera_id


@pytest.mark.parametrize(
    ("folder", "expected"),
    [
        ("Front Door", "front_door"),
        ("  garage  ", "garage"),
        ("back-yard_2", "back-yard_2"),
        ("Café/Porch!!", "caf_porch"),
    ],
)
def test_normalises_folder_names(folder: str, expected: str) -> None:
    assert normalize_camera_id(folder) == expected


@pytest.mark.parametrize("folder", ["Front Door", "garage", "x" * 300, "Ünïcode Cam #3"])
def test_is_stable_and_idempotent(folder: str) -> None:
    first = normalize_camera_id(folder)
    assert normalize_camera_id(folder) == first
    assert normalize_camera_id(first) == first
    # logs.camera_id is String(100): every id must fit there.
    assert 0 < len(first) <= 100


@pytest.mark.parametrize("folder", ["", "   ", "!!!", "___", "-"])
def test_refuses_names_without_letters_or_digits(folder: str) -> None:
    with pytest.raises(InvalidCameraId):
        normalize_camera_id(folder)
