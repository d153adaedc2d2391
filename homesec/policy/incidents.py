"""Incidents (issue 23, "knows the house"): visits on different cameras close in time are one
story, told and scored as one. Pure: data and the window in, a decision out.

A *visit* is a camera's event that nothing supersedes (a batch event, or a fast-path event
until its batch's verdict replaces it). A new visit joins an incident when **another camera's**
visit lies within ``INCIDENT_WINDOW_SECONDS`` of it (the gap between the two spans of pictures,
0 when they overlap). Chaining follows: driveway, then front door a minute later, then the
back door a minute after that is one incident even when the driveway's visit ended three
minutes before the back door's began, because each link is within the window.

The same camera seen again is no reason on its own: a person pacing on one camera is that
camera's visits (its batches and its habits say what that means), not an incident. A visit of
the same camera does join when another camera's member of the incident is within the window.

The window: two minutes by default. Long enough to walk from the street round a house and be
seen by the next camera (cameras upload a few seconds apart; a batch closes after its window),
short enough that the postman at noon and a neighbour at one are not one story.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import msgspec

from homesec.contract.analysis import IncidentVisit
from homesec.policy import scene

# INCIDENT_WINDOW_SECONDS's default.
INCIDENT_WINDOW_SECONDS = 120

# The order a visit's kinds are told in: the most concerning first.
_TOLD_FIRST = (
    scene.WEAPON,
    scene.PERSON,
    scene.LARGE_ANIMAL,
    scene.VEHICLE,
    scene.ANIMAL,
    scene.BAG,
    scene.OTHER,
)


class VisitSpan(msgspec.Struct, frozen=True, kw_only=True):
    """A visit as the decision sees it: its camera, its pictures' span, its incident."""

    event_id: int
    camera_id: str
    started_at: dt.datetime
    ended_at: dt.datetime
    incident_id: int | None = None


class Joining(msgspec.Struct, frozen=True, kw_only=True):
    """What a new visit joins: the incident ``incident_id`` (None: a new one, made of it and
    ``loose``), and the other cameras' visits near it that belong to no incident yet and join
    with it (``loose``, event ids)."""

    incident_id: int | None
    loose: tuple[int, ...] = ()


def gap_seconds(a: VisitSpan, b: VisitSpan) -> float:
    """Seconds between two visits' pictures: 0 when their spans overlap."""
    return max(
        0.0,
        (b.started_at - a.ended_at).total_seconds(),
        (a.started_at - b.ended_at).total_seconds(),
    )


def joining(visit: VisitSpan, recent: Sequence[VisitSpan], window_seconds: float) -> Joining | None:
    """Whether ``visit`` joins an incident, and which; None: it stands alone.

    ``recent``: visits near it in time, any camera (its own camera's are not a reason). Of
    the other cameras' visits within the window, the nearest that is in an incident names the
    incident; the loose ones join with it. None of them in an incident: a new incident."""
    if window_seconds <= 0:
        return None
    near = sorted(
        (
            (gap_seconds(visit, other), other)
            for other in recent
            if other.camera_id != visit.camera_id and other.event_id != visit.event_id
        ),
        key=lambda pair: (pair[0], -pair[1].ended_at.timestamp(), pair[1].event_id),
    )
    near = [(gap, other) for gap, other in near if gap <= window_seconds]
    if not near:
        return None
    incident = next((o.incident_id for _, o in near if o.incident_id is not None), None)
    loose = tuple(sorted(o.event_id for _, o in near if o.incident_id is None))
    return Joining(incident_id=incident, loose=loose)


def told_before(visit: VisitSpan, members: Sequence[VisitSpan]) -> list[VisitSpan]:
    """The incident's visits to tell the engine before ``visit``: all but those of its own
    camera that overlap it (its own preliminary, fast-path verdict: the same visit)."""
    return [
        member
        for member in members
        if member.event_id != visit.event_id
        and not (member.camera_id == visit.camera_id and gap_seconds(member, visit) == 0)
    ]


def incident_score(scores: Sequence[int | None]) -> int | None:
    """The incident's score: its story's latest assessment saw every visit before it, and an
    incident never scores below its worst visit (a cautious house: one visit's alarm is not
    talked down by the next camera's calm)."""
    known = [score for score in scores if score is not None]
    return max(known) if known else None


def told_kinds(object_types: Sequence[str]) -> list[str]:
    """The kinds of ``object_types``, most concerning first, each once."""
    kinds = {scene.kind_of(name) for name in object_types if name}
    return [kind for kind in _TOLD_FIRST if kind in kinds]


def _what(visit: IncidentVisit) -> str:
    if not visit.kinds:
        return "activity"
    return f"a {scene.noun(visit.kinds[0], 1)}"


def story_line(visits: Sequence[IncidentVisit], zone: dt.tzinfo | None) -> str:
    """The incident in words, oldest visit first: ``"A person at Driveway at 02:09, then at
    Back Door at 02:10, then a vehicle at Garage at 02:12."``"""
    if not visits:
        return ""
    ordered = sorted(visits, key=lambda v: (v.started_at, v.event_id))
    parts = []
    previous = None
    for visit in ordered:
        what = _what(visit)
        where = f"at {visit.camera_name} at {visit.started_at.astimezone(zone):%H:%M}"
        if previous is None:
            parts.append(f"{what[0].upper()}{what[1:]} {where}")
        elif what == previous:
            parts.append(f"then {where}")
        else:
            parts.append(f"then {what} {where}")
        previous = what
    return ", ".join(parts) + "."


def cameras_in_order(visits: Sequence[IncidentVisit]) -> list[str]:
    """The incident's camera ids in the order first seen."""
    ordered = sorted(visits, key=lambda v: (v.started_at, v.event_id))
    return list(dict.fromkeys(visit.camera_id for visit in ordered))


def grew(cameras_before: Sequence[str], cameras_now: Sequence[str]) -> bool:
    """The incident reached a camera it had not: news for the owner's phone."""
    return bool(set(cameras_now) - set(cameras_before))
