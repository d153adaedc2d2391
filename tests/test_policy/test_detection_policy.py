"""The Detector's decisions, of plain data (policy/detection_policy.py)."""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import msgspec
import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

from homesec.contract.analysis import BoundingBox, Detection
from homesec.contract.jobs import DetectionJob, StoredDetection
from homesec.policy.detection_policy import (
    BatchersAway,
    MalformedJob,
    Step,
    after_failure,
    choose_device,
    hand_over_plan,
    kept_detections,
    latency_samples,
    one_by_one_after,
    parse_job,
    read_more,
    refused_by_database,
    to_detect,
)


def job(path: str, camera: str = "porch", timestamp: str = "2026-01-01T00:00:00+00:00"):
    return DetectionJob(camera_id=camera, file_path=path, timestamp=timestamp)


class Item(NamedTuple):
    entry_id: str
    job: DetectionJob


def stored(*ids: int) -> list[StoredDetection]:
    return [StoredDetection(i, "person", 0.9) for i in ids]


# --- jobs ----------------------------------------------------------------------------------------
def test_a_job_is_read_from_its_payload():
    payload = msgspec.json.encode(job("/c/porch/a.jpg")).decode()
    assert parse_job("1-0", payload) == job("/c/porch/a.jpg")


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ("not a job", "entry 1-0 is not a detection job"),
        ('{"camera_id": "porch"}', "entry 1-0 is not a detection job"),
        (msgspec.json.encode(job("/x.jpg", "Front Door")).decode(), "names no valid camera"),
        (msgspec.json.encode(job("/x.jpg", "../etc")).decode(), "names no valid camera"),
        (msgspec.json.encode(job("/x.jpg", "!!!")).decode(), "names no valid camera"),
    ],
)
def test_an_entry_that_is_not_a_job_or_names_no_valid_camera_is_malformed(payload, says):
    with pytest.raises(MalformedJob, match=says):
        parse_job("1-0", payload)


def test_the_device_is_the_gpu_ray_assigned_else_the_configured_one():
    assert choose_device([0], "auto") == "cuda"
    assert choose_device(["1"], "cpu") == "cuda"
    assert choose_device([], "auto") == "auto"
    assert choose_device([], "cpu") == "cpu"


def test_a_house_keeps_confident_boxes_of_the_classes_it_cares_about():
    box = BoundingBox(0, 0, 10, 10)
    found = [
        [Detection("person", 0.9, box), Detection("person", 0.4, box), Detection("kite", 0.9, box)],
        [],
        [Detection(" Car ", 0.5, box)],
    ]
    assert kept_detections(found, 0.5, ("person", "car")) == [
        [Detection("person", 0.9, box)],
        [],
        [Detection(" Car ", 0.5, box)],
    ]
    # No classes named: every class, by confidence alone.
    assert kept_detections(found, 0.5, ()) == [
        [Detection("person", 0.9, box), Detection("kite", 0.9, box)],
        [],
        [Detection(" Car ", 0.5, box)],
    ]


# --- failures ------------------------------------------------------------------------------------
def _integrity_error() -> IntegrityError:
    return IntegrityError("INSERT", {}, Exception("violates foreign key constraint"))


class StricterIntegrityError(IntegrityError):
    pass


class IntegrityError2(Exception):
    """Named like it, not SQLAlchemy's."""


IntegrityError2.__name__ = "IntegrityError"


def test_an_outage_holds_the_batch_whatever_the_error():
    assert after_failure(OSError("connection refused"), outage=True) is Step.HOLD
    assert after_failure(FileNotFoundError("gone"), outage=True) is Step.HOLD


@pytest.mark.parametrize(
    "error",
    [
        MalformedJob("entry 1-0 is not a detection job"),
        FileNotFoundError("/c/porch/gone.jpg"),
        _integrity_error(),
        StricterIntegrityError("INSERT", {}, Exception("violates")),
    ],
    ids=["malformed", "file gone", "refused by the database", "a subclass of that"],
)
def test_what_retrying_cannot_help_is_dead_lettered_at_once(error):
    assert after_failure(error, outage=False) is Step.DEAD_LETTER


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("the engine cannot take this image"),
        ValueError("bad pixels"),
        OSError("disk full"),
        OperationalError("SELECT", {}, Exception("deadlock detected")),
        IntegrityError2("not SQLAlchemy's"),
    ],
)
def test_a_jobs_own_other_failures_are_retried(error):
    assert after_failure(error, outage=False) is Step.RETRY


def test_the_database_refusing_a_row_is_told_by_sqlalchemys_class():
    assert refused_by_database(_integrity_error())
    assert not refused_by_database(IntegrityError2())
    assert not refused_by_database(RuntimeError("IntegrityError"))


def test_a_failed_batch_goes_image_by_image_unless_it_was_one_image():
    assert not one_by_one_after(1)
    assert one_by_one_after(2) and one_by_one_after(16)


# --- the batch at hand ---------------------------------------------------------------------------
def test_entries_held_for_an_outage_go_alone_and_those_held_for_a_batcher_take_company():
    assert read_more(holding=False, held_for_batchers=False)
    assert not read_more(holding=True, held_for_batchers=False)
    assert read_more(holding=True, held_for_batchers=True)


def test_only_files_without_stored_detections_meet_the_model_each_once():
    work = [
        Item("1", job("/a.jpg")),
        Item("2", job("/b.jpg")),
        Item("3", job("/a.jpg")),  # the same file again (Redis lost its data)
        Item("4", job("/c.jpg")),
    ]
    assert to_detect(work, {"/b.jpg"}) == [work[0], work[3]]
    assert to_detect(work, {"/a.jpg", "/b.jpg", "/c.jpg"}) == []


def test_the_hand_over_goes_by_camera_and_gives_a_files_detections_once():
    work = [
        Item("1", job("/porch/a.jpg")),
        Item("2", job("/yard/b.jpg", "yard")),
        Item("3", job("/porch/a.jpg")),  # a second entry of the same file
        Item("4", job("/porch/failed.jpg")),  # not stored: it failed, left out
        Item("5", job("/porch/empty.jpg")),  # stored with nothing seen
    ]
    plan = hand_over_plan(
        work, {"/porch/a.jpg": stored(1, 2), "/yard/b.jpg": stored(3), "/porch/empty.jpg": []}
    )
    assert plan == {
        "porch": [(work[0], stored(1, 2)), (work[2], []), (work[4], [])],
        "yard": [(work[1], stored(3))],
    }


def test_latency_runs_from_acceptance_and_a_naive_timestamp_is_utc():
    now = dt.datetime(2026, 1, 1, 0, 1, tzinfo=dt.UTC)
    accepted = ["2026-01-01T00:00:00+00:00", "2026-01-01T00:00:30", "2026-01-01T00:05:00+00:00"]
    assert latency_samples(accepted, now) == [60.0, 30.0, 0.0]  # never negative
    with pytest.raises(ValueError):
        latency_samples(["yesterday"], now)


def test_batchers_away_name_their_cameras_and_the_first_reason():
    away = BatchersAway.of({"yard": RuntimeError("batcher restarting"), "porch": "none yet"})
    assert away.cameras == ["porch", "yard"]
    assert str(away) == "the batcher of porch, yard cannot be reached: batcher restarting"
