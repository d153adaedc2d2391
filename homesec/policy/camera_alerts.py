"""Camera alerts through the owner's alert rules (issue 23), pure.

A camera problem (lens covered, view moved, blurred, offline) has no objects, risk score or
fast path; a rule judges it on what it shares with an event:

- the rule is enabled and its cameras (if any) include the camera;
- its schedule (days, time ranges) holds when the problem started, in the house's zone;
- a camera problem weighs as a *high* risk (:data:`CAMERA_PROBLEM_LEVEL`, score
  :data:`CAMERA_PROBLEM_SCORE`, the bottom of the band): a camera gone blind is as worth a push
  as someone at the door, so the default rule (high and above) sends it, and a "critical only"
  rule does not;
- a rule that asks for objects, a confidence or fast-path events only is about what a camera
  *saw*, and passes camera problems over.

Quiet hours hold camera alerts back like a non-critical event's (recorded, shown on the Alerts
page, not pushed). Cooldown: a problem alerts once when it starts, and cannot start again while
it is open, which already keeps a covered lens from alerting every frame.
"""

from __future__ import annotations

import datetime as dt

from homesec.contract.alerts import AlertKind, AlertRule, AlertStatus
from homesec.contract.camera_problems import CameraProblemFacts
from homesec.policy.alert_rules import Verdict, in_quiet_hours, in_schedule, level_rank

CAMERA_PROBLEM_LEVEL = "high"
CAMERA_PROBLEM_SCORE = 60


def alert_source(kind: str) -> str:
    """What an alert is about, as ``GET /api/alerts`` says it: ``camera`` (a camera problem),
    ``test`` (a test message), ``digest`` (the morning digest) or ``event`` (an event's alert
    or update)."""
    if kind == AlertKind.CAMERA:
        return "camera"
    if kind == AlertKind.DIGEST:
        return "digest"
    return "test" if kind == AlertKind.TEST else "event"


def camera_match_failure(
    rule: AlertRule, problem: CameraProblemFacts, zone: dt.tzinfo | None
) -> str | None:
    """Why ``rule`` does not send ``problem``'s alert (its first failing condition), or None."""
    if not rule.enabled:
        return "the rule is disabled"
    if rule.camera_ids and problem.camera_id not in rule.camera_ids:
        return f"camera {problem.camera_id} is not one of the rule's"
    if rule.object_types or rule.min_confidence is not None:
        return "the rule is about objects seen, not the camera"
    if rule.min_risk_level is not None and level_rank(CAMERA_PROBLEM_LEVEL) < level_rank(
        rule.min_risk_level
    ):
        return f"a camera problem weighs {CAMERA_PROBLEM_LEVEL}, below {rule.min_risk_level}"
    if rule.min_risk_score is not None and rule.min_risk_score > CAMERA_PROBLEM_SCORE:
        return f"a camera problem weighs {CAMERA_PROBLEM_SCORE}, below {rule.min_risk_score}"
    if rule.fast_path:
        return "fast-path events only"
    if (rule.days or rule.time_ranges) and not in_schedule(
        rule.days, rule.time_ranges, problem.started_at.astimezone(zone)
    ):
        return "outside the rule's schedule"
    return None


def decide_camera(
    rule: AlertRule,
    problem: CameraProblemFacts,
    now: dt.datetime,
    *,
    quiet_hours: tuple[dt.time, dt.time] | None = None,
    zone: dt.tzinfo | None = None,
) -> Verdict:
    """What ``rule`` does about ``problem``: nothing, send (pending), or hold it in quiet hours."""
    failure = camera_match_failure(rule, problem, zone)
    if failure is not None:
        return Verdict(None, failure)
    if in_quiet_hours(quiet_hours, now.astimezone(zone)):
        return Verdict(AlertStatus.SUPPRESSED_QUIET_HOURS, "quiet hours")
    return Verdict(AlertStatus.PENDING, "matches")
