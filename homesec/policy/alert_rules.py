"""Alert decisions, pure: does a rule match an event, is its camera cooling down, is it quiet
hours; and what to do with one (rule, event) pair, as a function of (rule, event, last sent, now).

Local time is the event's start in the house's zone, not the clock's: an event decided late (a
Notifier that was down) is judged by when it happened. Cooldown and quiet hours use ``now``:
they are about the owner's phone, which hears it now.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence

import msgspec

from homesec.contract.alerts import AlertRule, AlertStatus, ChannelKind, JudgedEvent, channel_kind
from homesec.policy.risk import RISK_LEVELS
from homesec.policy.zones import in_any_zone

_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class Verdict(msgspec.Struct, frozen=True):
    """``status`` None: the rule does not fire (``reason`` says which condition failed)."""

    status: AlertStatus | None
    reason: str


def parse_time_range(text: str) -> tuple[dt.time, dt.time]:
    """``"23:00-07:00"`` -> (23:00, 07:00). ValueError names what it accepts."""
    match = _RANGE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not a time range HH:MM-HH:MM such as 22:00-06:00")
    h1, m1, h2, m2 = (int(part) for part in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"{text!r} is not a time range HH:MM-HH:MM such as 22:00-06:00")
    start, end = dt.time(h1, m1), dt.time(h2, m2)
    if start == end:
        raise ValueError(f"{text!r} starts where it ends; leave the ranges empty for all day")
    return start, end


def in_time_range(start: dt.time, end: dt.time, moment: dt.time) -> bool:
    """Start inclusive, end exclusive; a range that ends before it starts runs over midnight."""
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


def in_schedule(days: Sequence[int], time_ranges: Sequence[str], local: dt.datetime) -> bool:
    """The rule's schedule holds at ``local``. A range over midnight belongs to the day it
    started: "Friday 22:00-06:00" holds on Saturday 03:00, not on Friday 03:00."""
    if not time_ranges:
        return not days or local.isoweekday() in days
    clock = local.time()
    for text in time_ranges:
        start, end = parse_time_range(text)
        if not in_time_range(start, end, clock):
            continue
        started_on = local.date()
        if start > end and clock < end:  # the after-midnight part of yesterday's range
            started_on -= dt.timedelta(days=1)
        if not days or started_on.isoweekday() in days:
            return True
    return False


def in_quiet_hours(quiet_hours: tuple[dt.time, dt.time] | None, local: dt.datetime) -> bool:
    return quiet_hours is not None and in_time_range(*quiet_hours, local.time())


def level_rank(level: str | None) -> int:
    """low 0 .. critical 3; unknown or none -1 (below every band)."""
    return RISK_LEVELS.index(level) if level in RISK_LEVELS else -1


def match_failure(rule: AlertRule, event: JudgedEvent, zone: dt.tzinfo | None) -> str | None:
    """Why ``rule`` does not match ``event`` (its first failing condition), or None: it does."""
    if not rule.enabled:
        return "the rule is disabled"
    # An event of an incident is judged by the incident's verdict on the whole story.
    level, score = event.judged_level, event.judged_score
    if rule.min_risk_level is not None and level_rank(level) < level_rank(rule.min_risk_level):
        return f"risk level {level} is below {rule.min_risk_level}"
    if rule.min_risk_score is not None and (score or 0) < rule.min_risk_score:
        return f"risk score {score} is below {rule.min_risk_score}"
    if rule.camera_ids and event.camera_id not in rule.camera_ids:
        return f"camera {event.camera_id} is not one of the rule's"
    if rule.fast_path is not None and event.is_fast_path != rule.fast_path:
        return "fast-path events only" if rule.fast_path else "batch events only"
    wanted = rule.object_types or tuple(event.confidences)
    if rule.object_types and not any(kind in event.confidences for kind in wanted):
        return f"no {', '.join(rule.object_types)} in the event"
    if rule.min_confidence is not None:
        best = max((event.confidences.get(kind, 0.0) for kind in wanted), default=0.0)
        if best < rule.min_confidence:
            return f"best confidence {best:.2f} is below {rule.min_confidence:.2f}"
    if rule.zones and not in_any_zone(rule.zones, event.zones):
        return (
            f"no detection in the zone{'s' if len(rule.zones) > 1 else ''} {', '.join(rule.zones)}"
        )
    if (rule.days or rule.time_ranges) and not in_schedule(
        rule.days, rule.time_ranges, event.started_at.astimezone(zone)
    ):
        return "outside the rule's schedule"
    if rule.modes and event.house_mode not in rule.modes:
        return f"the house was {event.house_mode}, not {' or '.join(rule.modes)}"
    return None


def cooling_down(rule: AlertRule, last_alerted_at: dt.datetime | None, now: dt.datetime) -> bool:
    """The rule alerted for this camera within its cooldown."""
    if last_alerted_at is None or rule.cooldown_seconds <= 0:
        return False
    return (now - last_alerted_at).total_seconds() < rule.cooldown_seconds


def decide(
    rule: AlertRule,
    event: JudgedEvent,
    last_alerted_at: dt.datetime | None,
    now: dt.datetime,
    *,
    quiet_hours: tuple[dt.time, dt.time] | None = None,
    zone: dt.tzinfo | None = None,
) -> Verdict:
    """What ``rule`` does about ``event``: nothing, send (pending), or hold it back and record
    why (cooldown, quiet hours). ``last_alerted_at``: the rule's last alert for this camera
    that was not suppressed. Critical events pass quiet hours, not the cooldown."""
    failure = match_failure(rule, event, zone)
    if failure is not None:
        return Verdict(None, failure)
    if cooling_down(rule, last_alerted_at, now):
        return Verdict(AlertStatus.SUPPRESSED_COOLDOWN, "within the rule's cooldown")
    if event.judged_level != "critical" and in_quiet_hours(quiet_hours, now.astimezone(zone)):
        return Verdict(AlertStatus.SUPPRESSED_QUIET_HOURS, "quiet hours (not critical)")
    return Verdict(AlertStatus.PENDING, "matches")


def channel_choices(
    decisions: Iterable[tuple[int, Sequence[str], AlertStatus]],
) -> dict[str, tuple[AlertStatus, int]]:
    """Per channel, the status and rule of the alert it gets, from each deciding rule's id, its
    channels and its verdict: a rule that sends (``pending``) wins over one that holds back
    (cooldown, quiet hours), and otherwise the first rule to name the channel stands. Event
    alerts and camera alerts choose alike."""
    chosen: dict[str, tuple[AlertStatus, int]] = {}
    for rule_id, targets, status in decisions:
        for channel in targets:
            held = chosen.get(channel)
            if held is None or (
                held[0] is not AlertStatus.PENDING and status is AlertStatus.PENDING
            ):
                chosen[channel] = (status, rule_id)
    return chosen


def rule_channels(rule: AlertRule, configured: Iterable[str]) -> list[str]:
    """The concrete channels (``webhook:1a2b3c4d``) of ``configured`` that the rule sends to:
    those of its kinds, or every one when it names none."""
    kinds = set(rule.channels)
    return [name for name in configured if not kinds or name.split(":", 1)[0] in kinds]


def replay(
    rule: AlertRule,
    events: Sequence[JudgedEvent],
    *,
    zone: dt.tzinfo | None = None,
) -> list[tuple[JudgedEvent, Verdict]]:
    """What ``rule`` would have done for ``events`` (oldest first), each judged at its own start
    and with the cooldown its earlier alerts would have set (quiet hours left out: they are about
    when the owner listens, not about the event)."""
    last: dict[str, dt.datetime] = {}
    verdicts = []
    for event in sorted(events, key=lambda e: (e.started_at, e.event_id)):
        verdict = decide(rule, event, last.get(event.camera_id), event.started_at, zone=zone)
        if verdict.status is AlertStatus.PENDING:
            last[event.camera_id] = event.started_at
        verdicts.append((event, verdict))
    return verdicts


# --- updates -------------------------------------------------------------------------------------
def update_worth_a_push(
    previous_level: str | None,
    previous_score: int | None,
    level: str | None,
    score: int | None,
    min_score_change: int,
) -> bool:
    """Is the batch's verdict news next to the fast-path alert the phone already showed: another
    band, or a score more than ``min_score_change`` points away. A verdict without a score says
    nothing new; a first score after none does."""
    if score is None:
        return False
    if level != previous_level or previous_score is None:
        return True
    return abs(score - previous_score) > min_score_change


def update_status(channel: str, *, worth_a_push: bool) -> AlertStatus:
    """An update row's status on ``channel``: a push channel (Apprise) stays quiet when the
    update is no news; MQTT's retained state and webhooks always get the latest verdict."""
    if worth_a_push or channel_kind(channel) != ChannelKind.APPRISE:
        return AlertStatus.PENDING
    return AlertStatus.SUPPRESSED_UNCHANGED


# --- delivery ------------------------------------------------------------------------------------
RETRY_BASE_SECONDS = 2.0
RETRY_CAP_SECONDS = 300.0


def retry_delay(attempts: int, base: float = RETRY_BASE_SECONDS, cap: float = RETRY_CAP_SECONDS):
    """Seconds before the next attempt after ``attempts`` failed ones: 2, 4, 8 ... at most 5
    minutes, so a receiver down for an hour is tried a dozen times, not thousands."""
    return min(cap, base * 2 ** max(0, attempts - 1))


def after_failure(attempts: int, max_attempts: int) -> AlertStatus:
    """A failed attempt leaves the row pending until ``max_attempts`` were made."""
    return AlertStatus.FAILED if attempts >= max_attempts else AlertStatus.PENDING
