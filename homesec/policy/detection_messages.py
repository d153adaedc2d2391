"""The detector's live message: one ``detection.new`` per image, speaking of objects."""

from __future__ import annotations

import datetime as dt

from homesec.contract.jobs import StoredDetection
from homesec.contract.messages import DetectedObject, DetectionNewData, DetectionNewMessage
from homesec.policy.scene import objects_in_image


def detection_new_message(
    camera_id: str, file_path: str, detections: list[StoredDetection], detected_at: dt.datetime
) -> DetectionNewMessage:
    """One image's ``detection.new``: its most confident box in the original fields, every box
    in ``detections``, and the objects in words."""
    best = max(detections, key=lambda d: d.confidence)
    return DetectionNewMessage(
        data=DetectionNewData(
            detection_id=best.detection_id,
            camera_id=camera_id,
            object_type=best.object_type,
            confidence=best.confidence,
            detected_at=detected_at.isoformat(),
            file_path=file_path,
            detections=[
                DetectedObject(
                    detection_id=d.detection_id,
                    object_type=d.object_type,
                    confidence=d.confidence,
                    stationary=d.stationary,
                )
                for d in detections
            ],
            objects=objects_in_image([d.object_type for d in detections]),
        )
    )
