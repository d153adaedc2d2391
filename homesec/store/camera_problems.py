"""The ``camera_problems`` table: what went wrong with a camera, while it lasts (issue 23).

Building blocks (an ``AsyncSession``, no commit) open and clear problems inside the caller's
transaction: the tamper check's with the camera's baseline, the offline check's on its own. The
Notifier takes the undecided ones under ``FOR UPDATE SKIP LOCKED`` and marks them decided in the
transaction that writes their alert rows. The front door reads the open ones as the cameras'
status.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.camera_problems import CameraProblemFacts
from homesec.models import Camera, CameraProblem


def expired(cutoff: dt.datetime) -> ColumnElement[bool]:
    """A problem cleared before ``cutoff`` is history the retention cleanup removes (with its
    camera alerts, which cascade); an open one stays however old, since it is the camera's
    status now."""
    return CameraProblem.cleared_at.is_not(None) & (CameraProblem.cleared_at < cutoff)


# --- building blocks ------------------------------------------------------------------------------
async def open_problem(
    session: AsyncSession,
    camera_id: str,
    problem: str,
    started_at: dt.datetime,
    *,
    detail: str | None = None,
    image_path: str | None = None,
) -> int | None:
    """Open the problem; its id, or None when the camera has it open already."""
    statement = (
        insert(CameraProblem)
        .values(
            camera_id=camera_id,
            problem=problem,
            started_at=started_at,
            detail=detail,
            image_path=image_path,
        )
        .on_conflict_do_nothing(
            index_elements=[CameraProblem.camera_id, CameraProblem.problem],
            index_where=CameraProblem.cleared_at.is_(None),
        )
        .returning(CameraProblem.id)
    )
    return await session.scalar(statement)


async def clear_problem(
    session: AsyncSession, camera_id: str, problem: str, cleared_at: dt.datetime
) -> bool:
    """Close the camera's open problem of that kind; False when none was open."""
    result = await session.execute(
        update(CameraProblem)
        .where(
            CameraProblem.camera_id == camera_id,
            CameraProblem.problem == problem,
            CameraProblem.cleared_at.is_(None),
        )
        .values(cleared_at=cleared_at)
    )
    return bool(result.rowcount)


async def take_undecided(session: AsyncSession, limit: int) -> list[CameraProblemFacts]:
    """Problems no Notifier has judged yet, oldest first, row-locked (others skip them)."""
    rows = await session.execute(
        select(CameraProblem, Camera.name)
        .join(Camera, Camera.id == CameraProblem.camera_id)
        .where(CameraProblem.decided.is_(False))
        .order_by(CameraProblem.id)
        .limit(limit)
        .with_for_update(of=CameraProblem, skip_locked=True)
    )
    return [_facts(problem, name) for problem, name in rows.all()]


async def mark_decided(session: AsyncSession, problem_ids: Sequence[int]) -> None:
    if problem_ids:
        await session.execute(
            update(CameraProblem)
            .where(CameraProblem.id.in_(list(problem_ids)))
            .values(decided=True)
        )


def _facts(problem: CameraProblem, camera_name: str) -> CameraProblemFacts:
    return CameraProblemFacts(
        problem_id=problem.id,
        camera_id=problem.camera_id,
        camera_name=camera_name,
        problem=problem.problem,
        detail=problem.detail,
        image_path=problem.image_path,
        started_at=problem.started_at,
    )


# --- reads ---------------------------------------------------------------------------------------
async def facts(
    sessions: async_sessionmaker[AsyncSession], problem_id: int
) -> CameraProblemFacts | None:
    """One problem as a channel words it; None when it is gone (its camera deleted)."""
    async with sessions() as session:
        row = (
            await session.execute(
                select(CameraProblem, Camera.name)
                .join(Camera, Camera.id == CameraProblem.camera_id)
                .where(CameraProblem.id == problem_id)
            )
        ).one_or_none()
    return _facts(*row) if row is not None else None


async def described(session: AsyncSession, problem_ids: Sequence[int]) -> dict[int, str]:
    """Each problem in words for the Alerts page (``lens covered: brightness 0, ...``)."""
    if not problem_ids:
        return {}
    rows = await session.execute(
        select(CameraProblem.id, CameraProblem.problem, CameraProblem.detail).where(
            CameraProblem.id.in_(list(problem_ids))
        )
    )
    return {
        problem_id: f"{problem}: {detail}" if detail else problem
        for problem_id, problem, detail in rows.all()
    }


async def open_problems_in(session: AsyncSession) -> dict[str, list[str]]:
    """Each camera's open problems (the kinds, oldest first); cameras without any are absent."""
    rows = await session.execute(
        select(CameraProblem.camera_id, CameraProblem.problem)
        .where(CameraProblem.cleared_at.is_(None))
        .order_by(CameraProblem.started_at, CameraProblem.id)
    )
    found: dict[str, list[str]] = {}
    for camera_id, problem in rows.all():
        found.setdefault(camera_id, []).append(problem)
    return found


async def open_problems(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[str]]:
    async with sessions() as session:
        return await open_problems_in(session)
