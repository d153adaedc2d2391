"""The house's mode, pure: what a requested mode means, what the schedule does at its edges,
what an MQTT command says, and how the mode weighs what the cameras see.

- ``home``: homesec as it always was; nothing here changes a score.
- ``away``: nobody should be there, so people by day are not the household's routine: their
  habits do not lower the score and :func:`away_points` adds a part that says "the house is set
  to away" (the family in the garden at 15:00 is routine at home and an alert when away).
- ``night``: the household is asleep, so every hour weighs like the dark hours
  (:func:`weighed_part_of_day`), whatever the clock says.

The schedule (``HOUSE_MODE_SCHEDULE``, off by default) sets ``night`` at the start of its night
hours (``HOUSE_MODE_NIGHT_HOURS``, 23:00-06:00) and ``home`` at their end. It only moves between
those two: a house set to away stays away through the night and the morning. A change made after
the latest edge (the owner switched back to home at 23:30) wins until the next edge.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from homesec.contract.enums import CameraRole, HouseMode
from homesec.contract.house_mode import HOUSE_MODES, ModeChange
from homesec.policy.home_assistant import DISCOVERY_PREFIX, OFFLINE, ONLINE, Topics, node_prefix

_R = CameraRole


def parse_mode(value: object) -> HouseMode:
    """The mode ``value`` names; ValueError says which modes there are."""
    if isinstance(value, str):
        try:
            return HouseMode(value.strip().lower())
        except ValueError:
            pass
    raise ValueError(f"mode must be one of {', '.join(HOUSE_MODES)}; got {value!r}")


def mqtt_command_mode(payload: bytes) -> HouseMode | None:
    """The mode an MQTT command asks for (Home Assistant's select sends the option as plain
    text); None for anything else, which is ignored (a retained stray, a typo)."""
    try:
        return parse_mode(payload.decode("utf-8", errors="strict"))
    except (UnicodeDecodeError, ValueError):
        return None


# --- Home Assistant -------------------------------------------------------------------------------
def select_discovery_config(topics: Topics) -> tuple[str, dict[str, Any]]:
    """(config topic, payload) of the mode's ``select`` entity, on a "homesec" device of the
    house's own (the cameras are devices of their own): Home Assistant shows the three modes,
    sends the one picked to the command topic, and shows what the state topic says."""
    node = f"{node_prefix(topics.prefix)}_house"
    config = {
        "name": "Mode",
        "icon": "mdi:home-lock",
        "options": list(HOUSE_MODES),
        "state_topic": topics.house_mode,
        "command_topic": topics.house_mode_set,
        "device": {
            "identifiers": [node],
            "name": "homesec",
            "manufacturer": "homesec",
            "model": "house",
        },
        "availability_topic": topics.available,
        "payload_available": ONLINE,
        "payload_not_available": OFFLINE,
        "unique_id": f"{node}_mode",
        "object_id": f"{node}_mode",
    }
    return f"{DISCOVERY_PREFIX}/select/{node}/mode/config", config


# --- the schedule --------------------------------------------------------------------------------
def _latest_edge(night: tuple[dt.time, dt.time], now: dt.datetime) -> tuple[dt.datetime, HouseMode]:
    """The last start (night) or end (home) of the night hours at or before ``now`` (local)."""
    start, end = night
    edges = []
    for days_back in (0, 1):
        day = now.date() - dt.timedelta(days=days_back)
        edges.append((dt.datetime.combine(day, start, now.tzinfo), HouseMode.NIGHT))
        edges.append((dt.datetime.combine(day, end, now.tzinfo), HouseMode.HOME))
    return max((edge for edge in edges if edge[0] <= now), key=lambda edge: edge[0])


def scheduled_mode(
    night: tuple[dt.time, dt.time], in_force: ModeChange, now: dt.datetime
) -> HouseMode | None:
    """The mode the schedule sets now, or None: nothing to do. ``now`` is local (the house's
    zone); ``in_force`` the latest change. Stateless, so a restart that missed an edge applies
    it late, and a change made after the edge is left alone."""
    edge_at, mode = _latest_edge(night, now)
    if in_force.changed_at is not None and in_force.changed_at >= edge_at:
        return None  # the edge was applied already, or someone chose since
    if mode is HouseMode.NIGHT and in_force.mode == HouseMode.HOME:
        return HouseMode.NIGHT
    if mode is HouseMode.HOME and in_force.mode == HouseMode.NIGHT:
        return HouseMode.HOME
    return None


# --- scoring -------------------------------------------------------------------------------------
# Points added for people seen while the house is away and it is light: about what the dark
# hours add over the day for the camera's role (scoring.PRESENCE), so a person in the garden by
# day while away weighs about as a person there at night. A street camera's passers-by stay
# ordinary.
AWAY_PERSON_POINTS: dict[CameraRole, int] = {
    _R.STREET: 0,
    _R.ENTRANCE: 40,
    _R.DRIVEWAY: 45,
    _R.YARD: 45,
    _R.GARAGE: 50,
    # Someone inside while nobody is home is an intruder until shown otherwise: more than the
    # dark hours add, where residents are expected in.
    _R.INDOOR: 60,
}
# A vehicle by day while away, with nobody seen: a car pulling into the drive is worth a glance.
AWAY_VEHICLE_POINTS: dict[CameraRole, int] = {
    _R.STREET: 0,
    _R.ENTRANCE: 20,
    _R.DRIVEWAY: 25,
    _R.YARD: 25,
    _R.GARAGE: 25,
    _R.INDOOR: 0,
}
NIGHT, DAWN = "night", "dawn"  # scoring's dark parts of the day


def weighed_part_of_day(mode: str, clock_part: str) -> str:
    """The part of the day the rules weigh by: the clock's, or night when the house says so."""
    return NIGHT if mode == HouseMode.NIGHT else clock_part


def night_note(mode: str, clock_part: str) -> str | None:
    """The reasoning's note that the house is set to night (and how that weighs the hour);
    None in the other modes."""
    if mode != HouseMode.NIGHT:
        return None
    if clock_part == NIGHT:
        return "the house is set to night"
    return f"the house is set to night: by the clock it is {clock_part}, weighed as the dark hours"


def habits_count(mode: str, kind: str, part: str) -> bool:
    """Whether a kind's habits may lower its score. The habits learnt the household's own
    comings and goings: they say nothing while it is out (people and vehicles by day while
    away) or asleep (people while the house is set to night)."""
    if mode == HouseMode.AWAY:
        return not (kind in ("person", "vehicle") and part not in (NIGHT, DAWN))
    if mode == HouseMode.NIGHT:
        return kind != "person"
    return True


def habit_note(mode: str) -> str:
    return f"not counted: the house is set to {mode}"


def away_points(
    mode: str, kind: str, role: CameraRole, part: str, factor: float
) -> tuple[int, str] | None:
    """(points, why) for people (or, with nobody seen, a vehicle: ``kind``) seen while away and
    it is light; None otherwise. ``factor``: the kind's confidence factor (an uncertain box
    weighs half)."""
    if mode != HouseMode.AWAY or part in (NIGHT, DAWN):
        return None
    table = AWAY_PERSON_POINTS if kind == "person" else AWAY_VEHICLE_POINTS
    nouns = "people" if kind == "person" else "vehicles"
    points = round(table[role] * factor)
    if points == 0:
        return 0, f"the house is set to away: {nouns} here are still ordinary"
    return points, f"the house is set to away: {nouns} by day are not the household's routine"
