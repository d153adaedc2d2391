"""The ``alert_rules`` table: the owner's rules, read as :class:`AlertRule` structs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import AlertRule
from homesec.models import AlertRuleRow

_LIST_FIELDS = (
    "camera_ids",
    "object_types",
    "days",
    "time_ranges",
    "channels",
    "modes",
    "zones",
)
EDITABLE_FIELDS = (
    "name", "enabled", "min_risk_level", "min_risk_score", "camera_ids", "object_types",
    "min_confidence", "days", "time_ranges", "fast_path", "cooldown_seconds", "channels",
    "modes", "zones",
)  # fmt: skip


def to_rule(row: AlertRuleRow) -> AlertRule:
    values = {field: getattr(row, field) for field in EDITABLE_FIELDS}
    for field in _LIST_FIELDS:
        values[field] = tuple(values[field] or ())
    return AlertRule(id=row.id, **values)


def _columns(rule: AlertRule) -> dict[str, Any]:
    values = {field: getattr(rule, field) for field in EDITABLE_FIELDS}
    for field in _LIST_FIELDS:
        values[field] = list(values[field])
    return values


async def enabled_rules(session: AsyncSession) -> list[AlertRule]:
    """The enabled rules, oldest first (joins the caller's transaction)."""
    rows = await session.scalars(
        select(AlertRuleRow).where(AlertRuleRow.enabled.is_(True)).order_by(AlertRuleRow.id)
    )
    return [to_rule(row) for row in rows]


async def list_rules(sessions: async_sessionmaker[AsyncSession]) -> list[AlertRule]:
    async with sessions() as session:
        rows = await session.scalars(select(AlertRuleRow).order_by(AlertRuleRow.id))
        return [to_rule(row) for row in rows]


async def get_rule(sessions: async_sessionmaker[AsyncSession], rule_id: int) -> AlertRule | None:
    async with sessions() as session:
        row = await session.get(AlertRuleRow, rule_id)
        return to_rule(row) if row is not None else None


async def create_rule(sessions: async_sessionmaker[AsyncSession], rule: AlertRule) -> AlertRule:
    async with sessions.begin() as session:
        row = AlertRuleRow(**_columns(rule))
        session.add(row)
        await session.flush()
        await session.refresh(row)
        return to_rule(row)


async def replace_rule(
    sessions: async_sessionmaker[AsyncSession], rule_id: int, rule: AlertRule
) -> AlertRule | None:
    """Store ``rule``'s conditions under ``rule_id``; None when there is no such rule."""
    async with sessions.begin() as session:
        row = await session.get(AlertRuleRow, rule_id, with_for_update=True)
        if row is None:
            return None
        for field, value in _columns(rule).items():
            setattr(row, field, value)
        row.updated_at = dt.datetime.now(dt.UTC)
        await session.flush()
        return to_rule(row)


async def delete_rule(sessions: async_sessionmaker[AsyncSession], rule_id: int) -> bool:
    async with sessions.begin() as session:
        result = await session.execute(delete(AlertRuleRow).where(AlertRuleRow.id == rule_id))
        return result.rowcount > 0


def merged(rule: AlertRule, changes: dict[str, Any]) -> AlertRule:
    """``rule`` with ``changes`` (field -> value) applied, validated as a whole."""
    values = msgspec.structs.asdict(rule) | changes
    return msgspec.convert(values, AlertRule)
