"""The Home Assistant ``problem`` binary sensor of a camera (issue 23), pure.

ON while the camera has an open problem (lens covered, view moved, blurred, offline), OFF
otherwise; its attributes (``{"problems": [...]}``) say which. Both retained: Home Assistant
learns the state when it starts, not only when it changes.
"""

from __future__ import annotations

import json
from typing import Any

OBJECT_ID = "problem"


def problem_topic(prefix: str, camera_id: str) -> str:
    return f"{prefix}/{camera_id}/problem"


def problem_attributes_topic(prefix: str, camera_id: str) -> str:
    return f"{prefix}/{camera_id}/problem/attributes"


def problem_entity(prefix: str, camera_id: str) -> tuple[str, str, dict[str, Any]]:
    """(component, object id, config) as :func:`homesec.policy.home_assistant.discovery_configs`
    lists its entities."""
    return (
        "binary_sensor",
        OBJECT_ID,
        {
            "name": "Problem",
            "device_class": "problem",
            "state_topic": problem_topic(prefix, camera_id),
            "json_attributes_topic": problem_attributes_topic(prefix, camera_id),
            "payload_on": "ON",
            "payload_off": "OFF",
        },
    )


def problem_payloads(problems: list[str]) -> tuple[str, str]:
    """(state, attributes JSON) for the camera's open problems."""
    return ("ON" if problems else "OFF"), json.dumps({"problems": problems})
