"""The morning digest (issue 24): when it is due, what night it covers, what it says. Pure.

Off unless ``DIGEST_AT`` is set. Day D's digest covers "last night": from ``DIGEST_NIGHT_STARTS``
(18:00) on the evening before to ``DIGEST_AT`` (07:00) on D, both in the house's zone; the
clocks changing that night make it an hour shorter or longer, never a wrong hour. It is due from
``DIGEST_AT`` for ``DUE_FOR`` (a Notifier that was down in the morning still sends it by the
afternoon; later it would be stale, and is skipped).

It says only: the night's visits by band, the ones worth a look (high and critical) with their
links, and the cameras that were offline or tampered with. Each Apprise channel gets it at most
once a day: its outbox row's idempotency key is ``digest:<day>:<channel>``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from homesec.contract.alerts import AlertKind, AlertMessage, ChannelKind, channel_kind

DEFAULT_NIGHT_STARTS = dt.time(18, 0)
DUE_FOR = dt.timedelta(hours=12)
BANDS = ("critical", "high", "medium", "low", "unscored")
WORTH_A_LOOK = ("critical", "high")
MAX_LISTED = 10  # visits worth a look named one by one; the rest as a count and the timeline
KEY_PREFIX = "digest"


class DigestVisit(msgspec.Struct, frozen=True, kw_only=True):
    """A visit of the night (its latest verdict), as the digest tells it."""

    event_id: int
    camera_name: str
    started_at: dt.datetime
    risk_level: str | None
    risk_score: int | None
    summary: str | None


class DigestProblem(msgspec.Struct, frozen=True, kw_only=True):
    """A camera problem that was open at some time during the night."""

    camera_name: str
    problem: str  # CameraProblemKind: offline, lens covered, view moved, blurred
    started_at: dt.datetime
    cleared_at: dt.datetime | None


def _local(day: dt.date, at: dt.time, zone: dt.tzinfo | None) -> dt.datetime:
    naive = dt.datetime.combine(day, at)
    local = naive.replace(tzinfo=zone) if zone is not None else naive.astimezone()
    return local.astimezone(dt.UTC)


def night_window(
    day: dt.date, digest_at: dt.time, night_starts: dt.time, zone: dt.tzinfo | None
) -> tuple[dt.datetime, dt.datetime]:
    """The night day ``day``'s digest covers: from the last ``night_starts`` before the digest
    time (the evening before, or the same day when the digest comes later than it) to the
    digest time."""
    start_day = day if night_starts < digest_at else day - dt.timedelta(days=1)
    return _local(start_day, night_starts, zone), _local(day, digest_at, zone)


def due_day(now: dt.datetime, digest_at: dt.time | None, zone: dt.tzinfo | None) -> dt.date | None:
    """The local day whose digest is due at ``now``; None when it is off or not due."""
    if digest_at is None:
        return None
    today = now.astimezone(zone).date()
    for day in (today, today - dt.timedelta(days=1)):
        sent_from = _local(day, digest_at, zone)
        if sent_from <= now < sent_from + DUE_FOR:
            return day
    return None


def digest_channels(channels: Sequence[str]) -> list[str]:
    """The channels a digest goes to: Apprise's (the owner's phone), not MQTT or webhooks."""
    return [name for name in channels if channel_kind(name) == ChannelKind.APPRISE]


def digest_key(day: dt.date, channel: str) -> str:
    return f"{KEY_PREFIX}:{day.isoformat()}:{channel}"


def digest_day(key: str) -> dt.date | None:
    """The day of a digest row's idempotency key; None for a key that is not a digest's."""
    prefix, _, rest = key.partition(":")
    if prefix != KEY_PREFIX:
        return None
    try:
        return dt.date.fromisoformat(rest.partition(":")[0])
    except ValueError:
        return None


def _band(visit: DigestVisit) -> str:
    return visit.risk_level or "unscored"


def band_counts(visits: Sequence[DigestVisit]) -> dict[str, int]:
    """Visits per band, the most serious first, bands without a visit left out."""
    counts = {band: 0 for band in BANDS}
    for visit in visits:
        counts[_band(visit)] = counts.get(_band(visit), 0) + 1
    return {band: count for band, count in counts.items() if count}


def worth_a_look(visits: Sequence[DigestVisit]) -> list[DigestVisit]:
    """High and critical visits, the most serious first, then in time order."""
    chosen = [visit for visit in visits if _band(visit) in WORTH_A_LOOK]
    return sorted(chosen, key=lambda v: (WORTH_A_LOOK.index(_band(v)), v.started_at, v.event_id))


def _clock(moment: dt.datetime, zone: dt.tzinfo | None, night_day: dt.date) -> str:
    local = moment.astimezone(zone)
    return f"{local:%H:%M}" if local.date() == night_day else f"{local:%a %H:%M}"


def _problem_line(problem: DigestProblem, zone: dt.tzinfo | None, day: dt.date) -> str:
    since = _clock(problem.started_at, zone, day)
    if problem.cleared_at is None:
        return f"- {problem.camera_name}: {problem.problem} since {since}, still"
    until = _clock(problem.cleared_at, zone, day)
    return f"- {problem.camera_name}: {problem.problem} {since} to {until}"


def compose_digest(
    *,
    day: dt.date,
    window: tuple[dt.datetime, dt.datetime],
    visits: Sequence[DigestVisit],
    problems: Sequence[DigestProblem],
    link_base: str,
    zone: dt.tzinfo | None,
) -> tuple[str, str]:
    """The digest's title and body."""
    base = link_base.rstrip("/")
    start, end = (moment.astimezone(zone) for moment in window)
    counts = band_counts(visits)
    looks = worth_a_look(visits)
    total = len(visits)
    visits_words = f"{total} visit{'' if total == 1 else 's'}"
    if not total:
        title = "Last night: no visits"
    elif looks:
        title = f"Last night: {visits_words}, {len(looks)} worth a look"
    else:
        title = f"Last night: {visits_words}, none worth a look"
    if problems:
        cameras = len({problem.camera_name for problem in problems})
        title += f"; {cameras} camera{'' if cameras == 1 else 's'} with problems"
    lines = [f"{start:%a %H:%M} to {end:%a %H:%M}: {visits_words}"
             + (": " + ", ".join(f"{count} {band}" for band, count in counts.items())
                if counts else "") + "."]  # fmt: skip
    if looks:
        lines += ["", "Worth a look:"]
        for visit in looks[:MAX_LISTED]:
            score = f" {visit.risk_score}" if visit.risk_score is not None else ""
            summary = f" {visit.summary}" if visit.summary else ""
            lines.append(
                f"- {_clock(visit.started_at, zone, day)} {visit.camera_name},"
                f" {_band(visit)}{score}.{summary} {base}/events/{visit.event_id}"
            )
        if len(looks) > MAX_LISTED:
            lines.append(
                f"- and {len(looks) - MAX_LISTED} more: {base}/timeline?day={end:%Y-%m-%d}"
            )
    if problems:
        lines += ["", "Cameras:"]
        lines += [_problem_line(problem, zone, day) for problem in problems]
    return title, "\n".join(lines)


def digest_message(
    *, alert_id: int, idempotency_key: str, title: str, body: str, now: dt.datetime
) -> AlertMessage:
    """The digest as a channel sends it: no camera, no event, a calm notification."""
    return AlertMessage(
        alert_id=alert_id,
        kind=AlertKind.DIGEST,
        title=title,
        body=body,
        camera_id="",
        camera_name="",
        local_time=now.isoformat(),
        risk_level=None,
        risk_score=None,
        summary=None,
        event_id=None,
        link=None,
        idempotency_key=idempotency_key,
    )
