"""What the Notifier sends of camera problems (issue 23): a camera alert's message, and each
camera's problem state for Home Assistant (the ``problem`` binary sensor)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import AlertMessage
from homesec.engines.notify.mqtt_channel import MqttChannel
from homesec.policy.camera_alert_message import compose_camera
from homesec.store import camera_problems
from homesec.store.alerts import StoredAlert


async def camera_alert_message(
    sessions: async_sessionmaker[AsyncSession],
    row: StoredAlert,
    link_base: str,
    zone: dt.tzinfo | None,
) -> AlertMessage | None:
    """The message of a camera alert row; None when its problem is gone (camera deleted)."""
    if row.camera_problem_id is None:
        return None
    problem = await camera_problems.facts(sessions, row.camera_problem_id)
    if problem is None:
        return None
    return compose_camera(
        alert_id=row.id,
        idempotency_key=row.idempotency_key,
        problem=problem,
        link_base=link_base,
        zone=zone,
    )


async def publish_camera_problems(
    sessions: async_sessionmaker[AsyncSession], mqtt: MqttChannel
) -> None:
    """Each known camera's open problems to MQTT; the channel sends only what changed."""
    mqtt.publish_problems(await camera_problems.open_problems(sessions))
