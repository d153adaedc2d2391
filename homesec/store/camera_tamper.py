"""The ``camera_tamper`` table: each camera's image baseline for the tamper check (issue 23).

Both functions join the caller's transaction: the state is read under a row lock and written
back in the transaction that opens or clears the camera's problems, so two ingests of one camera
(a scan and the FTP hand-over) never learn from the same baseline twice.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from homesec.models import CameraTamper
from homesec.policy.tamper import TamperState


async def lock_state(session: AsyncSession, camera_id: str) -> TamperState:
    """The camera's state, row-locked until the transaction ends; a fresh one when it has none
    (or an unreadable one: it learns again)."""
    found = await session.scalar(
        select(CameraTamper.state).where(CameraTamper.camera_id == camera_id).with_for_update()
    )
    if found is None:
        return TamperState()
    try:
        return msgspec.convert(found, TamperState)
    except msgspec.ValidationError:
        return TamperState()


async def save_state(
    session: AsyncSession, camera_id: str, state: TamperState, now: dt.datetime
) -> None:
    values = {"camera_id": camera_id, "state": msgspec.to_builtins(state), "updated_at": now}
    await session.execute(
        insert(CameraTamper)
        .values(values)
        .on_conflict_do_update(
            index_elements=[CameraTamper.camera_id],
            set_={"state": values["state"], "updated_at": now},
        )
    )
