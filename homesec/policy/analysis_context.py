"""The engine's input for one batch (:class:`~homesec.contract.analysis.AnalysisContext`), made of
what the store read: the camera, the detections that remain, the camera's habits and the owner's
feedback.

Its local time is when the batch's first picture was taken, not the clock's, so a batch analysed
late (a backlog, an LLM outage) is judged by when it happened; the habits and the feedback are
read as of that time too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from homesec.contract.analysis import (
    AnalysisContext,
    CameraBaseline,
    CameraCalibration,
    DetectionSummary,
    IncidentVisit,
    StationaryThing,
)
from homesec.contract.jobs import AnalysisJob


def local_start(detections: Sequence[DetectionSummary], zone: dt.tzinfo | None) -> dt.datetime:
    """When the first picture was taken, in the house's zone (None: the machine's)."""
    return min(d.happened_at for d in detections).astimezone(zone)


def analysis_context(
    job: AnalysisJob,
    camera_name: str,
    detections: Sequence[DetectionSummary],
    zone: dt.tzinfo | None,
    *,
    camera_role: str | None = None,
    baseline: CameraBaseline | None = None,
    calibration: CameraCalibration | None = None,
    house_mode: str = "home",
    stationary: Sequence[StationaryThing] = (),
    earlier_visits: Sequence[IncidentVisit] = (),
    incident_window_seconds: int = 120,
) -> AnalysisContext:
    """The engine's input. A baseline without history is left out: the camera's role rules
    decide alone. ``calibration``: the owner's recent feedback on the camera's events;
    ``house_mode``: the house's mode when the first picture was taken; ``stationary``: what
    stayed put in the batch's frames (a parked car), context and never the reason."""
    return AnalysisContext(
        camera_id=job.camera_id,
        camera_name=camera_name,
        local_time=local_start(detections, zone),
        detections=list(detections),
        is_fast_path=job.is_fast_path,
        camera_role=camera_role,
        baseline=baseline if baseline is not None and baseline.history_days > 0 else None,
        calibration=calibration,
        house_mode=house_mode,
        stationary=list(stationary),
        earlier_visits=list(earlier_visits),
        incident_window_seconds=incident_window_seconds,
    )
