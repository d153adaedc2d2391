"""Camera status transitions with an injected clock."""

from __future__ import annotations

import pytest

from homesec.policy.camera_health import (
    CameraStatus,
    FolderState,
    camera_status,
)

T0 = 1_700_000_000.0
OFFLINE_AFTER = 600


def status(current: str | None, last_seen: float | None, now: float, folder=FolderState.OK):
    return camera_status(
        current,
        now=now,
        last_seen_at=last_seen,
        folder=folder,
        offline_after_seconds=OFFLINE_AFTER,
    )


def test_recent_upload_keeps_an_online_camera_online() -> None:
    update = status("online", T0, T0 + 599.9)
    assert (update.status, update.changed) == (CameraStatus.ONLINE, False)


def test_online_goes_offline_at_the_boundary() -> None:
    update = status("online", T0, T0 + 600)
    assert (update.status, update.changed) == (CameraStatus.OFFLINE, True)
    assert "600" in update.reason


def test_offline_comes_back_online_with_an_upload() -> None:
    update = status("offline", T0 + 1000, T0 + 1001)
    assert (update.status, update.changed) == (CameraStatus.ONLINE, True)


def test_never_seen_camera_is_offline() -> None:
    update = status("online", None, T0)
    assert (update.status, update.changed, update.reason) == (
        CameraStatus.OFFLINE,
        True,
        "no upload yet",
    )


@pytest.mark.parametrize("folder", [FolderState.MISSING, FolderState.UNREADABLE])
def test_folder_problem_is_an_error_even_with_fresh_uploads(folder: FolderState) -> None:
    update = status("online", T0, T0 + 1, folder)
    assert (update.status, update.changed) == (CameraStatus.ERROR, True)
    assert folder.value in update.reason


def test_error_clears_when_the_folder_is_back() -> None:
    assert status("error", T0, T0 + 10).status == CameraStatus.ONLINE
    assert status("error", T0, T0 + 700).status == CameraStatus.OFFLINE


def test_unknown_current_status_counts_as_a_change() -> None:
    assert status(None, T0, T0).changed


def test_upload_stamped_after_now_is_online() -> None:
    update = status("online", T0 + 5, T0)  # clocks a little apart
    assert update.status == CameraStatus.ONLINE
    assert "0 s ago" in update.reason
