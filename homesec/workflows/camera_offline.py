"""The offline check (issue 23): the Janitor runs it on each wake-up (every few minutes).

For each enabled camera it reads the recent uploads (:mod:`homesec.store.camera_silence`) and
asks :func:`homesec.policy.camera_offline.offline_verdict`; a camera newly offline gets an open
``offline`` problem (the Notifier's next sweep decides its camera alert), and one that uploads
again has it cleared; either change is published live (``camera_problem``), for the Cameras
page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

import msgspec
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.camera_problems import CameraProblemKind
from homesec.contract.messages import CameraProblemData
from homesec.policy.camera_offline import HISTORY, MAX_SAMPLES, offline_verdict
from homesec.store import camera_problems, camera_silence, event_channel

log = logging.getLogger("homesec.janitor")


class OfflineChecked(msgspec.Struct, frozen=True, kw_only=True):
    went_offline: list[str] = []
    came_back: list[str] = []


async def check_offline(
    sessions: async_sessionmaker[AsyncSession], redis: aioredis.Redis, now: dt.datetime
) -> OfflineChecked:
    cameras = await camera_silence.camera_uploads(sessions, now - HISTORY, MAX_SAMPLES)
    went_offline: list[str] = []
    came_back: list[str] = []
    changes: list[CameraProblemData] = []
    for camera in cameras:
        verdict = offline_verdict(
            camera.upload_times, camera.last_seen_at, now, camera.offline_after_minutes
        )
        async with sessions.begin() as session:
            if verdict.offline:
                opened = await camera_problems.open_problem(
                    session, camera.camera_id, CameraProblemKind.OFFLINE, now,
                    detail=verdict.reason,
                )  # fmt: skip
                if opened is not None:
                    went_offline.append(camera.camera_id)
                    changes.append(_change(camera.camera_id, "opened", now, opened))
                    log.warning("camera %s is offline: %s", camera.camera_id, verdict.reason)
            elif await camera_problems.clear_problem(
                session, camera.camera_id, CameraProblemKind.OFFLINE, now
            ):
                came_back.append(camera.camera_id)
                changes.append(_change(camera.camera_id, "cleared", now))
                log.info("camera %s uploads again", camera.camera_id)
    if changes:
        with contextlib.suppress(Exception):  # live news only: the rows are the record
            await event_channel.publish_camera_problems(redis, changes)
    return OfflineChecked(went_offline=went_offline, came_back=came_back)


def _change(
    camera_id: str, state: str, at: dt.datetime, problem_id: int | None = None
) -> CameraProblemData:
    return CameraProblemData(
        camera_id=camera_id,
        problem=CameraProblemKind.OFFLINE,
        state=state,
        at=at.isoformat(),
        problem_id=problem_id,
    )
