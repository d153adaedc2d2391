"""The tamper check of one camera's new uploads (issue 23), for the watcher's ingest.

Each valid upload newly recorded (queued, or a duplicate: a covered lens sends the same black
frame again and again) gives its frame's statistics (:mod:`homesec.files.frame_stats`, on the
sample validation decoded); :func:`homesec.policy.tamper.judge` weighs them, in upload order,
against the camera's baseline. One transaction per round: the baseline is read under its row
lock, problems are opened or cleared in ``camera_problems``, and the baseline is written back.
A problem raised wakes the Notifier, which decides its camera alert against the rules; every
change is published live (``camera_problem``), for the Cameras page.

The check is an addition to the ingest, never a condition of it: a failure is logged and the
upload goes on (one frame less to learn from).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Sequence

import msgspec
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.messages import CameraProblemData
from homesec.files.frame_stats import frame_stats
from homesec.policy.tamper import TamperVerdict, judge
from homesec.store import camera_problems, camera_tamper, event_channel, notifier_wake

log = logging.getLogger("homesec.watcher")


class Frame(msgspec.Struct, frozen=True, kw_only=True):
    """One new upload's frame: where it is, when it came, its grayscale sample."""

    image_path: str
    seen_at: dt.datetime
    sample: bytes


class Change(msgspec.Struct, frozen=True, kw_only=True):
    """A problem a frame raised (opened: ``problem_id``) or cleared."""

    problem: str
    raised: bool
    at: dt.datetime
    problem_id: int | None = None

    def message(self, camera_id: str) -> CameraProblemData:
        return CameraProblemData(
            camera_id=camera_id,
            problem=self.problem,
            state="opened" if self.raised else "cleared",
            at=self.at.isoformat(),
            problem_id=self.problem_id,
        )


async def observe(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, frames: Sequence[Frame]
) -> list[Change]:
    """Judge the frames, oldest first, and record what they change; the changes."""
    if not frames:
        return []
    ordered = sorted(frames, key=lambda frame: frame.seen_at)
    changes: list[Change] = []
    async with sessions.begin() as session:
        state = await camera_tamper.lock_state(session, camera_id)
        for frame in ordered:
            verdict: TamperVerdict = judge(state, frame_stats(frame.sample))
            state = verdict.state
            if verdict.cleared is not None:
                await camera_problems.clear_problem(
                    session, camera_id, verdict.cleared, frame.seen_at
                )
                changes.append(Change(problem=verdict.cleared, raised=False, at=frame.seen_at))
            if verdict.raised is not None:
                problem_id = await camera_problems.open_problem(
                    session,
                    camera_id,
                    verdict.raised,
                    frame.seen_at,
                    detail=verdict.detail,
                    image_path=frame.image_path,
                )
                changes.append(
                    Change(
                        problem=verdict.raised,
                        raised=True,
                        at=frame.seen_at,
                        problem_id=problem_id,
                    )
                )
        await camera_tamper.save_state(session, camera_id, state, dt.datetime.now(dt.UTC))
    return changes


async def observe_quietly(
    sessions: async_sessionmaker[AsyncSession],
    redis: aioredis.Redis,
    camera_id: str,
    frames: Sequence[Frame],
) -> list[Change]:
    """:func:`observe`, logging instead of raising; wakes the Notifier for a raised problem."""
    try:
        changes = await observe(sessions, camera_id, frames)
    except Exception as exc:  # PostgreSQL away: the ingest itself waits it out, not this
        log.warning("%s: tamper check skipped for %d frame(s): %s", camera_id, len(frames), exc)
        return []
    for change in changes:
        verb = "looks" if change.raised else "no longer looks"
        log.warning("%s: camera %s %s", camera_id, verb, change.problem)
    if any(change.raised for change in changes):
        # Without the wake-up the Notifier's sweep finds it a few seconds later.
        with contextlib.suppress(Exception):
            await notifier_wake.wake(redis, "camera problem")
    if changes:
        with contextlib.suppress(Exception):  # live news only: the rows are the record
            await event_channel.publish_camera_problems(
                redis, [change.message(camera_id) for change in changes]
            )
    return changes
