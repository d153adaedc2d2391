"""MQTT topics and Home Assistant discovery configs, pure (docs/alerts.md).

Topics under ``MQTT_TOPIC_PREFIX`` (``homesec``): ``<prefix>/events`` (every event),
``<prefix>/alerts`` (every alert and update), ``<prefix>/available`` (online, or offline by the
last will), and per camera ``<prefix>/<camera>/event``, ``/person`` (ON/OFF), ``/risk``,
``/snapshot`` (JPEG) and ``/alert`` (retained: an update replaces its alert).

Each camera is a Home Assistant device with a person binary sensor, a risk sensor, an image
entity (the latest snapshot), an event entity and a problem binary sensor
(:mod:`homesec.policy.camera_problem_sensor`), announced by retained configs under
``homeassistant/<component>/<prefix>_<camera>/<object>/config`` (``<prefix>``: the topic
prefix, ``homesec`` by default).

The house's mode is a ``select`` entity of a device of its own (policy/house_mode.py's
:func:`~homesec.policy.house_mode.select_discovery_config`): state ``<prefix>/house_mode``
(retained), command ``<prefix>/house_mode/set``.
"""

from __future__ import annotations

import re
from typing import Any

from homesec.policy.camera_problem_sensor import problem_entity

DISCOVERY_PREFIX = "homeassistant"
STATUS_TOPIC = f"{DISCOVERY_PREFIX}/status"  # Home Assistant says "online" here when it starts
ONLINE, OFFLINE = "online", "offline"
# The person sensor turns itself off this long after the last ON (an event has no "left").
PERSON_OFF_DELAY_SECONDS = 60
EVENT_TYPES = ("person", "vehicle", "animal", "activity")
_VEHICLES = {"car", "truck", "bus", "motorcycle", "bicycle"}
_ANIMALS = {"bird", "cat", "dog", "horse", "sheep", "cow", "bear"}


class Topics:
    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.events = f"{prefix}/events"
        self.alerts = f"{prefix}/alerts"
        self.available = f"{prefix}/available"
        # The house's mode: its state (retained) and the command topic that sets it.
        self.house_mode = f"{prefix}/house_mode"
        self.house_mode_set = f"{prefix}/house_mode/set"

    def camera(self, camera_id: str, what: str) -> str:
        """``what``: event, person, risk, snapshot or alert."""
        return f"{self.prefix}/{camera_id}/{what}"


def event_type(object_types: tuple[str, ...] | list[str]) -> str:
    """The event entity's type: the most concerning class seen."""
    kinds = set(object_types)
    if "person" in kinds:
        return "person"
    if kinds & _VEHICLES:
        return "vehicle"
    if kinds & _ANIMALS:
        return "animal"
    return "activity"


def node_prefix(topic_prefix: str) -> str:
    """The topic prefix as Home Assistant's ids allow it: letters, digits, ``_`` and ``-``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", topic_prefix.strip("/")) or "homesec"


def discovery_configs(
    topics: Topics, camera_id: str, camera_name: str
) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, payload) of each entity of the camera's device. Ids start with the topic
    prefix (``homesec_<camera>`` by default), so two homesec instances on one broker, each with
    its own ``MQTT_TOPIC_PREFIX``, never overwrite each other's devices and entities."""
    node = f"{node_prefix(topics.prefix)}_{camera_id}"
    device = {
        "identifiers": [node],
        "name": camera_name,
        "manufacturer": "homesec",
        "model": "camera",
    }
    common = {
        "device": device,
        "availability_topic": topics.available,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
    }
    entities = [
        (
            "binary_sensor",
            "person",
            {
                "name": "Person",
                "device_class": "occupancy",
                "state_topic": topics.camera(camera_id, "person"),
                "payload_on": "ON",
                "payload_off": "OFF",
                "off_delay": PERSON_OFF_DELAY_SECONDS,
            },
        ),
        (
            "sensor",
            "risk",
            {
                "name": "Risk",
                "state_topic": topics.camera(camera_id, "risk"),
                "state_class": "measurement",
                "json_attributes_topic": topics.camera(camera_id, "event"),
                "icon": "mdi:shield-alert",
            },
        ),
        (
            "image",
            "snapshot",
            {
                "name": "Snapshot",
                "image_topic": topics.camera(camera_id, "snapshot"),
                "content_type": "image/jpeg",
            },
        ),
        (
            "event",
            "event",
            {
                "name": "Event",
                "state_topic": topics.camera(camera_id, "event"),
                "event_types": list(EVENT_TYPES),
            },
        ),
    ]
    entities.append(problem_entity(topics.prefix, camera_id))  # issue 23: the camera went blind
    return [
        (
            f"{DISCOVERY_PREFIX}/{component}/{node}/{object_id}/config",
            {
                **common,
                **config,
                "unique_id": f"{node}_{object_id}",
                "object_id": f"{node}_{object_id}",
            },
        )
        for component, object_id, config in entities
    ]
