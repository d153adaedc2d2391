"""The ``notify_channels`` table: alert channels the owner added on the Alerts page.

Two views of a row. :class:`ChannelListing` is what the API and the page may see: no URL.
:class:`ChannelTarget` carries the URL and is read only by the Notifier
(:func:`enabled_targets`), which sends to it.
"""

from __future__ import annotations

import datetime as dt

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.models import NotifyChannelRow
from homesec.policy.alert_channels import masked_url


class ChannelListing(msgspec.Struct, frozen=True, kw_only=True):
    """A stored channel without its URL: what may be shown."""

    id: int
    kind: str
    label: str
    masked: str
    enabled: bool
    created_at: dt.datetime


class ChannelTarget(msgspec.Struct, frozen=True, kw_only=True):
    """A stored channel with its URL: for the Notifier only."""

    id: int
    kind: str
    url: str


def _listing(row: NotifyChannelRow) -> ChannelListing:
    return ChannelListing(
        id=row.id,
        kind=row.kind,
        label=row.label,
        masked=masked_url(row.kind, row.url),
        enabled=row.enabled,
        created_at=row.created_at,
    )


async def listed(sessions: async_sessionmaker[AsyncSession]) -> list[ChannelListing]:
    """Every stored channel, oldest first."""
    async with sessions() as session:
        rows = await session.scalars(select(NotifyChannelRow).order_by(NotifyChannelRow.id))
        return [_listing(row) for row in rows]


async def get(sessions: async_sessionmaker[AsyncSession], channel_id: int) -> ChannelListing | None:
    async with sessions() as session:
        row = await session.get(NotifyChannelRow, channel_id)
        return _listing(row) if row is not None else None


async def enabled_targets(sessions: async_sessionmaker[AsyncSession]) -> list[ChannelTarget]:
    """The enabled channels with their URLs, for the Notifier."""
    async with sessions() as session:
        rows = await session.scalars(
            select(NotifyChannelRow)
            .where(NotifyChannelRow.enabled.is_(True))
            .order_by(NotifyChannelRow.id)
        )
        return [ChannelTarget(id=row.id, kind=row.kind, url=row.url) for row in rows]


async def add(
    sessions: async_sessionmaker[AsyncSession], *, kind: str, url: str, label: str
) -> ChannelListing | None:
    """Store a channel; None when the same URL is stored already."""
    async with sessions.begin() as session:
        new_id = await session.scalar(
            insert(NotifyChannelRow)
            .values(kind=kind, url=url, label=label)
            .on_conflict_do_nothing(index_elements=[NotifyChannelRow.url])
            .returning(NotifyChannelRow.id)
        )
        if new_id is None:
            return None
        row = await session.get(NotifyChannelRow, new_id)
        return _listing(row)


async def remove(
    sessions: async_sessionmaker[AsyncSession], channel_id: int
) -> ChannelListing | None:
    """Delete the channel, its URL with it; what it was, or None when there is no such row."""
    async with sessions.begin() as session:
        row = await session.get(NotifyChannelRow, channel_id)
        if row is None:
            return None
        gone = _listing(row)
        await session.execute(delete(NotifyChannelRow).where(NotifyChannelRow.id == channel_id))
        return gone


async def labels(sessions: async_sessionmaker[AsyncSession]) -> dict[int, str]:
    """Each stored channel's label by id."""
    async with sessions() as session:
        rows = await session.execute(select(NotifyChannelRow.id, NotifyChannelRow.label))
        return {channel_id: label for channel_id, label in rows}
