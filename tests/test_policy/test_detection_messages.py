"""The detector's pure parts: which boxes a house keeps, and one live message per image."""

from __future__ import annotations

import datetime as dt

from homesec.contract.jobs import StoredDetection
from homesec.contract.messages import DetectionNewMessage, encode_message
from homesec.policy.detection_messages import detection_new_message
from homesec.policy.scene import HOUSE_CLASSES, kept_by_house, objects_in_image
from tests.support.settings import make_settings

AT = dt.datetime(2026, 3, 4, 22, 0, tzinfo=dt.UTC)


def test_only_confident_boxes_of_house_classes_are_kept():
    classes = ("person", "car", "knife")
    assert kept_by_house("person", 0.9, 0.5, classes)
    assert kept_by_house(" Person ", 0.9, 0.5, classes)
    assert not kept_by_house("person", 0.4, 0.5, classes)
    assert not kept_by_house("potted plant", 0.99, 0.5, classes)
    assert kept_by_house("potted plant", 0.99, 0.5, ())  # DETECTION_OBJECT_TYPES=all


def test_the_default_classes_are_the_house_classes_the_scoring_knows():
    settings = make_settings()
    assert set(settings.detection_object_types) == set(HOUSE_CLASSES)


def test_one_message_per_image_names_its_best_box_and_every_box():
    boxes = [
        StoredDetection(detection_id=11, object_type="person", confidence=0.81),
        StoredDetection(detection_id=12, object_type="person", confidence=0.93),
        StoredDetection(detection_id=13, object_type="car", confidence=0.7, stationary=True),
    ]
    message = detection_new_message("front_door", "/cams/front_door/1.jpg", boxes, AT)
    data = message.data
    assert (data.detection_id, data.object_type, data.confidence) == (12, "person", 0.93)
    assert [d.detection_id for d in data.detections] == [11, 12, 13]
    assert [d.stationary for d in data.detections] == [False, False, True]  # a parked car
    assert data.objects == "2 people and 1 car"
    assert data.detected_at == AT.isoformat() and data.file_path == "/cams/front_door/1.jpg"
    # The contract's fields are all there, the additions beside them.
    text = encode_message(message)
    assert '"type":"detection.new"' in text
    assert DetectionNewMessage.__struct_fields__ == ("data", "type")
    assert objects_in_image([]) == "nothing"
    assert objects_in_image(["knife"]) == "1 knife"
