"""The ``camera_zones`` table: a camera's zones, replaced as a whole list and read back.

The Detector reads the zones of a batch's cameras once per batch (one small query), so a zone
drawn on the dashboard holds from the next batch on, without a restart.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.zones import Zone, ZoneAction
from homesec.models import Camera, CameraZoneRow


def _zone(row: CameraZoneRow) -> Zone:
    return Zone(
        name=row.name,
        points=[(float(x), float(y)) for x, y in row.points],
        action=ZoneAction(row.action),
        objects=list(row.objects) if row.objects is not None else None,
    )


async def zones_in(session: AsyncSession, camera_ids: Collection[str]) -> dict[str, list[Zone]]:
    """Each of ``camera_ids``' zones in the order drawn; a camera without zones is left out."""
    if not camera_ids:
        return {}
    rows = await session.scalars(
        select(CameraZoneRow)
        .where(CameraZoneRow.camera_id.in_(list(camera_ids)))
        .order_by(CameraZoneRow.camera_id, CameraZoneRow.position)
    )
    found: dict[str, list[Zone]] = {}
    for row in rows:
        found.setdefault(row.camera_id, []).append(_zone(row))
    return found


async def zones_by_camera(
    sessions: async_sessionmaker[AsyncSession], camera_ids: Collection[str]
) -> dict[str, list[Zone]]:
    """:func:`zones_in` in a session of its own (the Detector, once per batch)."""
    if not camera_ids:
        return {}
    async with sessions() as session:
        return await zones_in(session, camera_ids)


async def replace_zones(
    sessions: async_sessionmaker[AsyncSession], camera_id: str, zones: Sequence[Zone]
) -> bool:
    """Make ``zones`` the camera's whole list, in one transaction; False when there is no such
    camera. The camera's row is locked first, so two saves at once end as one of them, never a
    mix or a key conflict."""
    async with sessions.begin() as session:
        locked = await session.scalar(
            select(Camera.id).where(Camera.id == camera_id).with_for_update()
        )
        if locked is None:
            return False
        await session.execute(delete(CameraZoneRow).where(CameraZoneRow.camera_id == camera_id))
        if zones:
            await session.execute(
                insert(CameraZoneRow),
                [
                    {
                        "camera_id": camera_id,
                        "position": position,
                        "name": zone.name,
                        "action": zone.action.value,
                        "points": [list(point) for point in zone.points],
                        "objects": zone.objects,
                    }
                    for position, zone in enumerate(zones)
                ],
            )
    return True
