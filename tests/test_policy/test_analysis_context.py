"""The engine's input for a batch: its local time is when the first picture was taken."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from homesec.contract.analysis import CameraBaseline, DetectionSummary
from homesec.contract.jobs import AnalysisJob
from homesec.policy.analysis_context import analysis_context, local_start

CAMERA_ID = "front_door"
CAMERA_NAME = "Front Door"
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")


def test_the_context_is_in_local_time_of_the_first_detection():
    winter_evening = dt.datetime(2024, 1, 10, 21, 30, tzinfo=dt.UTC)
    detection = DetectionSummary(
        detection_id=1, object_type="person", confidence=0.9, detected_at=winter_evening
    )
    job = AnalysisJob(batch_id="b", camera_id=CAMERA_ID, detection_ids=[1], is_fast_path=True)
    context = analysis_context(job, CAMERA_NAME, [detection], BERLIN)
    assert context.local_time.isoformat() == "2024-01-10T22:30:00+01:00"  # night in Berlin
    assert context.is_fast_path and context.camera_name == CAMERA_NAME
    machine_local = analysis_context(job, CAMERA_NAME, [detection], None).local_time
    assert machine_local == winter_evening and machine_local.utcoffset() is not None


def test_the_first_picture_is_the_earliest_capture_time_whatever_the_order():
    processed = dt.datetime(2024, 1, 10, 12, 0, tzinfo=dt.UTC)
    taken = [processed - dt.timedelta(minutes=3), processed - dt.timedelta(minutes=5)]
    detections = [
        DetectionSummary(
            detection_id=i, object_type="car", confidence=0.8, detected_at=processed, captured_at=t
        )
        for i, t in enumerate(taken)
    ]
    assert local_start(detections, dt.UTC) == taken[1]


def test_a_baseline_without_history_is_left_out():
    at = dt.datetime(2024, 1, 10, 12, 0, tzinfo=dt.UTC)
    detection = DetectionSummary(detection_id=1, object_type="dog", confidence=0.7, detected_at=at)
    job = AnalysisJob(batch_id="b", camera_id=CAMERA_ID, detection_ids=[1])
    empty = CameraBaseline(history_days=0, hour=12)
    known = CameraBaseline(history_days=9, hour=12)
    assert analysis_context(job, CAMERA_NAME, [detection], None, baseline=empty).baseline is None
    assert analysis_context(job, CAMERA_NAME, [detection], None, baseline=known).baseline == known
