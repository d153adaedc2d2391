"""Deciding camera alerts (issue 23), in one transaction with the outbox rows it writes.

The Notifier calls :func:`decide_camera_problems` each cycle, beside the events' decisions. It
takes the camera problems no Notifier has judged (``FOR UPDATE SKIP LOCKED``: two overlapping
Notifiers never judge one twice), judges each against the enabled rules
(:func:`homesec.policy.camera_alerts.decide_camera`), writes one ``camera`` row per channel a
rule sends it to, and marks the problems decided, all in one commit. The idempotency key
(``camera:<problem id>:<channel>``) keeps a repeated decision from queuing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.alerts import AlertKind, AlertRule
from homesec.contract.camera_problems import CameraProblemFacts
from homesec.policy.alert_rules import channel_choices, rule_channels
from homesec.policy.camera_alerts import decide_camera
from homesec.store import alert_rules, alerts, camera_problems
from homesec.store.alerts import NewAlert

DECISION_BATCH = 100


def camera_alert_key(problem_id: int, channel: str) -> str:
    return f"camera:{problem_id}:{channel}"


def camera_alert_rows(
    problem: CameraProblemFacts,
    rules: Sequence[AlertRule],
    channels: Sequence[str],
    now: dt.datetime,
    *,
    quiet_hours: tuple[dt.time, dt.time] | None,
    zone: dt.tzinfo | None,
) -> list[NewAlert]:
    """One row per channel some rule sends the problem to; sending wins over holding back."""
    decisions = []
    for rule in rules:
        targets = rule_channels(rule, channels)
        if not targets:
            continue
        verdict = decide_camera(rule, problem, now, quiet_hours=quiet_hours, zone=zone)
        if verdict.status is not None:
            decisions.append((rule.id, targets, verdict.status))
    return [
        NewAlert(
            channel=channel,
            status=status,
            idempotency_key=camera_alert_key(problem.problem_id, channel),
            kind=AlertKind.CAMERA,
            rule_id=rule_id,
            camera_id=problem.camera_id,
            camera_problem_id=problem.problem_id,
        )
        for channel, (status, rule_id) in channel_choices(decisions).items()
    ]


async def decide_camera_problems(
    sessions: async_sessionmaker[AsyncSession],
    channels: Sequence[str],
    now: dt.datetime,
    *,
    quiet_hours: tuple[dt.time, dt.time] | None,
    zone: dt.tzinfo | None,
    limit: int = DECISION_BATCH,
) -> int:
    """Decide the undecided camera problems (at most ``limit``); how many were decided."""
    async with sessions.begin() as session:
        return await _decide_in(session, channels, now, quiet_hours, zone, limit)


async def _decide_in(
    session: AsyncSession,
    channels: Sequence[str],
    now: dt.datetime,
    quiet_hours: tuple[dt.time, dt.time] | None,
    zone: dt.tzinfo | None,
    limit: int,
) -> int:
    problems = await camera_problems.take_undecided(session, limit)
    if not problems:
        return 0
    rules = await alert_rules.enabled_rules(session)
    for problem in problems:
        rows = camera_alert_rows(problem, rules, channels, now, quiet_hours=quiet_hours, zone=zone)
        await alerts.add(session, rows, now)
    await camera_problems.mark_decided(session, [problem.problem_id for problem in problems])
    return len(problems)
