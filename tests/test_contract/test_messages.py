"""The security_events messages: one encoding, every type known in one place."""

from __future__ import annotations

import typing

import msgspec

from homesec.contract.messages import (
    MESSAGE_TYPES,
    CameraProblemData,
    CameraProblemMessage,
    CameraStatusData,
    CameraStatusMessage,
    ChannelMessage,
    DetectionNewData,
    DetectionNewMessage,
    SecurityEventData,
    SecurityEventMessage,
    encode_message,
    message_type,
)

EXAMPLES: list[ChannelMessage] = [
    SecurityEventMessage(
        data=SecurityEventData(
            id=1,
            event_id=1,
            batch_id="b",
            camera_id="front",
            risk_score=75,
            risk_level="high",
            summary="a person at the door",
            started_at="2026-12-04T12:00:00+00:00",
        )
    ),
    DetectionNewMessage(
        data=DetectionNewData(
            detection_id=7,
            camera_id="front",
            object_type="person",
            confidence=0.93,
            detected_at="2026-12-04T12:00:01+00:00",
            file_path="/c/front/a.jpg",
        )
    ),
    CameraStatusMessage(
        data=CameraStatusData(
            camera_id="front",
            status="offline",
            previous_status="online",
            reason="no upload for 600 s",
            changed_at="2026-12-04T12:10:00+00:00",
        )
    ),
    CameraProblemMessage(
        data=CameraProblemData(
            camera_id="front",
            problem="lens covered",
            state="opened",
            at="2026-12-04T12:11:00+00:00",
            problem_id=3,
        )
    ),
]


def test_every_message_type_is_in_the_union_and_the_list():
    classes = typing.get_args(ChannelMessage)
    assert {type(example) for example in EXAMPLES} == set(classes)
    assert sorted(example.type for example in EXAMPLES) == sorted(MESSAGE_TYPES)


def test_each_encodes_to_json_text_whose_type_a_reader_finds():
    for example in EXAMPLES:
        text = encode_message(example)
        assert isinstance(text, str)
        assert message_type(text) == example.type
        assert msgspec.json.decode(text, type=type(example)) == example


def test_text_that_is_no_message_has_no_type():
    assert message_type("not json") is None
    assert message_type('{"data": {}}') is None
    assert message_type('{"type": 3}') is None
