"""The house's scoring rules, pure: camera roles, time of day, habits from the baselines,
loitering, and the weapon floor that no engine may score below.

The rules engine (:mod:`homesec.engines.llm.rules`) scores with :func:`score_by_rules`; the
analyst applies :func:`apply_weapon_floor` after whatever engine scored. Every number that
moves a score is a named part with its reason, so the reasoning shows the arithmetic.

How a score is made (0-100; bands low <30, medium 30-59, high 60-84, critical 85+ by default):

1. **Presence**: for each kind seen (person, vehicle, animal, large animal, weapon, bag), points
   from the camera's role and the time of day (:data:`PRESENCE`), times the kind's best
   confidence (full from 0.8, half at 0.5). The most concerning kind counts.
2. **Habit**: when the camera has at least :data:`MIN_HISTORY_DAYS` of history, how often that
   kind was seen around this hour moves the presence: never seen scores higher (up to +10),
   often seen scores lower (up to 60% of the presence off). Without history the role decides.
3. **Circumstances**: several people at once in the dark, people with a vehicle in the dark,
   people staying (loitering: at least :data:`LOITER_FRAMES` frames over
   :data:`LOITER_SECONDS` s), a weapon with a person, and where people stood in the owner's
   zones (a porch or a door raises, the street lowers: :mod:`homesec.policy.zone_scoring`).
4. **The weapon floor**: a weapon (knife, scissors, baseball bat) together with a person is
   critical in the dark and at least high by day, whatever any engine said.

5. **The owner's feedback**: the camera's calibration for the most concerning kind
   (:mod:`homesec.policy.calibration`: false alarms and "should be lower" pull down, "should
   be higher" up, at most 15 points either way, only after a few verdicts) moves the bounded
   score last, never below the weapon floor, and the reasoning says why ("adjusted by the
   owner's feedback (the last 5 person events on this camera with feedback in 60 days: 4 marked
   false alarms, 1 should have been higher): -9").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import msgspec

from homesec.contract.analysis import AnalysisContext, CameraBaseline, RiskAssessment
from homesec.contract.enums import CameraRole
from homesec.policy import house_mode, scene
from homesec.policy.calibration import MIN_FEEDBACK, calibrated_score, in_words
from homesec.policy.scene import (
    ANIMAL,
    BAG,
    LARGE_ANIMAL,
    PERSON,
    VEHICLE,
    WEAPON,
    Sighting,
)
from homesec.policy.zone_scoring import zone_part
from homesec.settings import RiskBands

RULES_VERSION = "rules-5"  # rules-5: a person across cameras (incidents); rules-4: zones, mode

# --- camera roles ------------------------------------------------------------------------------
# Words of a camera's name that say what it watches; the first role in this order whose word
# appears wins ("Garage Door" is a garage, "Side Gate" an entrance, "Front Yard" a yard).
_ROLE_WORDS: tuple[tuple[CameraRole, frozenset[str]], ...] = (
    (
        CameraRole.INDOOR,
        frozenset(
            [
                "indoor",
                "indoors",
                "inside",
                "interior",
                "living",
                "lounge",
                "kitchen",
                "hall",
                "hallway",
                "bedroom",
                "room",
                "office",
                "basement",
                "nursery",
                "stairs",
                "staircase",
                "den",
                "attic",
                "foyer",
                "study",
            ]
        ),
    ),
    (CameraRole.GARAGE, frozenset(["garage", "carport", "shed", "barn", "workshop"])),
    (CameraRole.DRIVEWAY, frozenset(["driveway", "drive", "parking"])),
    (
        CameraRole.ENTRANCE,
        frozenset(
            [
                "door",
                "doors",
                "doorbell",
                "frontdoor",
                "entrance",
                "entry",
                "porch",
                "gate",
                "stoop",
            ]
        ),
    ),
    (
        CameraRole.STREET,
        frozenset(["street", "road", "sidewalk", "pavement", "curb", "kerb", "lane"]),
    ),
    (
        CameraRole.YARD,
        frozenset(
            [
                "yard",
                "backyard",
                "frontyard",
                "garden",
                "patio",
                "deck",
                "pool",
                "lawn",
                "terrace",
                "back",
                "side",
            ]
        ),
    ),
)
# A name that says nothing ("Cam 1"): treated as the household's own outdoor space.
DEFAULT_ROLE = CameraRole.YARD


@dataclass(frozen=True)
class RoleChoice:
    role: CameraRole
    source: str  # "set", "guessed from the name" or "default"


def _name_words(name: str) -> set[str]:
    # "FrontDoor" and "front_door" both give "front" and "door".
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return set(re.findall(r"[a-z]+", spaced.lower()))


def guess_role(camera_name: str) -> CameraRole | None:
    words = _name_words(camera_name)
    for role, role_words in _ROLE_WORDS:
        if words & role_words:
            return role
    return None


def camera_role(camera_name: str, explicit: str | None) -> RoleChoice:
    """The camera's role: the one set for it, else the one its name suggests, else the default."""
    if explicit:
        try:
            return RoleChoice(CameraRole(explicit), "set")
        except ValueError:
            pass  # a role this version does not know: as if unset
    guessed = guess_role(camera_name)
    if guessed is not None:
        return RoleChoice(guessed, "guessed from the name")
    return RoleChoice(DEFAULT_ROLE, "default")


# --- time of day -------------------------------------------------------------------------------
NIGHT, DAWN, DAY, EVENING = "night", "dawn", "day", "evening"


def time_of_day(local_time: dt.datetime) -> str:
    """By the house's clock: night 22-05, dawn 05-07, day 07-19, evening 19-22."""
    hour = local_time.hour
    if hour >= 22 or hour < 5:
        return NIGHT
    if hour < 7:
        return DAWN
    if hour < 19:
        return DAY
    return EVENING


def is_dark(part: str) -> bool:
    return part in (NIGHT, DAWN)


def part_of_day(context: AnalysisContext) -> str:
    """The part of the day the rules weigh the batch by: the clock's, or night when the house
    is set to night (policy/house_mode.py)."""
    return house_mode.weighed_part_of_day(context.house_mode, time_of_day(context.local_time))


# --- the tables --------------------------------------------------------------------------------
_R = CameraRole
# Points for a kind's presence by role and time of day: (day, evening, dawn, night).
PRESENCE: dict[str, dict[CameraRole, tuple[int, int, int, int]]] = {
    PERSON: {
        _R.STREET: (10, 12, 12, 25),
        _R.ENTRANCE: (30, 35, 45, 70),
        _R.DRIVEWAY: (20, 25, 35, 65),
        _R.YARD: (25, 35, 45, 70),
        _R.GARAGE: (20, 30, 45, 70),
        _R.INDOOR: (10, 15, 35, 50),
    },
    VEHICLE: {
        _R.STREET: (3, 5, 5, 8),
        _R.ENTRANCE: (10, 15, 20, 30),
        _R.DRIVEWAY: (10, 15, 20, 35),
        _R.YARD: (15, 20, 25, 40),
        _R.GARAGE: (10, 15, 20, 35),
        _R.INDOOR: (5, 5, 5, 5),
    },
}
_TIME_INDEX = {DAY: 0, EVENING: 1, DAWN: 2, NIGHT: 3}
SMALL_ANIMAL_POINTS = 5
# A bear (or an elephant) near a house is a danger to whoever steps outside.
DANGEROUS_ANIMALS = frozenset({"bear", "elephant"})
DANGEROUS_ANIMAL_POINTS = 70
DANGEROUS_ANIMAL_STREET_POINTS = 60
# Livestock on the loose, or a deer the detector calls a horse or a cow.
LARGE_ANIMAL_POINTS = (35, 40, 40, 40)
LARGE_ANIMAL_STREET_POINTS = 10
WEAPON_ALONE_POINTS = 10  # a knife on a kitchen counter, a bat in the garden: likely a tool
BAG_POINTS = 5  # a parcel or a bag
OTHER_POINTS = 5

MIN_HISTORY_DAYS = 7.0
RARE_BELOW = 0.05  # share of days: below it, rare (up to +RARE_POINTS)
RARE_POINTS = 10
FAMILIAR_FROM = 0.05  # above it, the presence is lowered ...
FAMILIAR_SLOPE = 1.5  # ... by this times (share - FAMILIAR_FROM) of it ...
MAX_FAMILIAR_CUT = 0.6  # ... at most this much of it
USUAL_FROM = 0.5  # the reasoning calls it usual from this share, common from 0.2
HABIT_WINDOW_DAYS = 30

EXTRA_PERSON_POINTS = 8  # per person beyond the first, in the dark
MAX_EXTRA_PERSON_POINTS = 16
PERSON_WITH_VEHICLE_POINTS = 10  # in the dark, off the street
LOITER_FRAMES = 10
LOITER_SECONDS = 60.0
# Points for people staying, by role: (day, evening, dawn, night).
LOITER_POINTS: dict[CameraRole, tuple[int, int, int, int]] = {
    _R.STREET: (10, 10, 10, 10),
    _R.ENTRANCE: (30, 30, 20, 20),
    _R.DRIVEWAY: (30, 30, 20, 20),
    _R.GARAGE: (30, 30, 20, 20),
    _R.YARD: (10, 10, 20, 20),  # residents spend time in their garden
    _R.INDOOR: (0, 0, 10, 10),
}
WEAPON_WITH_PERSON_POINTS = 30
# A person seen just before on another camera of the house, off the street (an incident,
# policy/incidents.py): one person moving round the house. Points by time of day (day, evening,
# dawn, night), and a few more for each further camera.
ACROSS_CAMERAS_POINTS = (5, 10, 15, 20)
ACROSS_EACH_MORE_POINTS = 5
MAX_ACROSS_CAMERAS_POINTS = 30
# The weapon floor is the lowest score of a band (RISK_BANDS): critical at night and dawn, at
# least high by day.


# --- parts -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Part:
    points: int
    why: str


@dataclass(frozen=True)
class RulesScore:
    score: int
    parts: list[Part]
    role: RoleChoice
    part_of_day: str
    # The owner's feedback, applied last to the bounded score ``subtotal``; None: no feedback
    # on this camera for the kind that counted.
    adjustment: Part | None = None
    subtotal: int | None = None


def confidence_factor(confidence: float) -> float:
    """1 from 0.8 up, 0.5 at 0.5: an uncertain box weighs half."""
    return 0.5 + 0.5 * min(1.0, max(0.0, (confidence - 0.5) / 0.3))


def _presence_points(kind: str, sighting: Sighting, role: CameraRole, part: str) -> int:
    index = _TIME_INDEX[part]
    if kind in PRESENCE:
        base = PRESENCE[kind][role][index]
    elif kind == LARGE_ANIMAL:
        if sighting.name in DANGEROUS_ANIMALS:
            base = DANGEROUS_ANIMAL_STREET_POINTS if role is _R.STREET else DANGEROUS_ANIMAL_POINTS
        else:
            base = LARGE_ANIMAL_STREET_POINTS if role is _R.STREET else LARGE_ANIMAL_POINTS[index]
    elif kind == ANIMAL:
        base = SMALL_ANIMAL_POINTS
    elif kind == WEAPON:
        base = WEAPON_ALONE_POINTS
    elif kind == BAG:
        base = BAG_POINTS
    else:
        base = OTHER_POINTS
    return round(base * confidence_factor(sighting.best_confidence))


def _large_animal_sighting(context: AnalysisContext) -> Sighting | None:
    """The most concerning large animal: a dangerous one first."""
    animals = {
        name: s
        for name, s in scene.by_class(context.detections).items()
        if scene.kind_of(name) == LARGE_ANIMAL
    }
    if not animals:
        return None
    return max(animals.values(), key=lambda s: (s.name in DANGEROUS_ANIMALS, s.best_confidence))


@dataclass(frozen=True)
class Habit:
    """How familiar a kind is on this camera around this hour."""

    days_seen: float
    history_days: float
    calendar_days: int = 0

    @property
    def share(self) -> float:
        return self.days_seen / self.history_days if self.history_days else 0.0

    def in_words(self) -> tuple[int, int]:
        """(days seen, of the last N days) in calendar days, N at most a month: the decayed
        share, recent days weighing most, told the way an owner counts."""
        window = min(self.calendar_days or round(self.history_days), HABIT_WINDOW_DAYS)
        return round(self.share * window), window


def habit_of(baseline: CameraBaseline | None, kind: str) -> Habit | None:
    """None when the camera has too little history for its habits to say anything."""
    if baseline is None or baseline.history_days < MIN_HISTORY_DAYS:
        return None
    return Habit(
        min(baseline.days_seen(kind), baseline.history_days),
        baseline.history_days,
        baseline.calendar_days,
    )


def habit_adjustment(presence: int, habit: Habit) -> int:
    """Points added (rare) or taken off (familiar) a kind's presence."""
    share = habit.share
    if share < RARE_BELOW:
        return round(RARE_POINTS * (1 - share / RARE_BELOW))
    cut = min(MAX_FAMILIAR_CUT, FAMILIAR_SLOPE * (share - FAMILIAR_FROM))
    return -round(presence * cut)


def _habit_words(share: float) -> str:
    if share >= USUAL_FROM:
        return "usual here"
    if share >= 0.2:
        return "common here"
    if share >= RARE_BELOW:
        return "uncommon here"
    return "rare here"


def _where(role: CameraRole) -> str:
    return "indoors" if role is _R.INDOOR else f"at the {role.value}"


def _habit_part(
    kind: str, presence: int, habit: Habit, role: CameraRole, local_time: dt.datetime
) -> Part:
    points = habit_adjustment(presence, habit)
    what = f"{scene.noun(kind, 2)} {_where(role)} around {local_time:%H:%M}"
    seen, window = habit.in_words()
    if habit.days_seen < 0.5:
        return Part(points, f"no {what} in the last {window} days: rare here")
    days = f"{max(seen, 1)} of the last {window} days"
    return Part(points, f"{what} are {_habit_words(habit.share)}: seen on {days}")


def _people_circumstances(
    context: AnalysisContext, sightings: dict[str, Sighting], role: CameraRole, part: str
) -> list[Part]:
    people = sightings[PERSON]
    parts = []
    if is_dark(part) and people.most_at_once > 1:
        points = min(EXTRA_PERSON_POINTS * (people.most_at_once - 1), MAX_EXTRA_PERSON_POINTS)
        parts.append(Part(points, f"{people.most_at_once} people at once in the dark"))
    if is_dark(part) and VEHICLE in sightings and role is not _R.STREET:
        parts.append(Part(PERSON_WITH_VEHICLE_POINTS, "people with a vehicle in the dark"))
    if people.frames >= LOITER_FRAMES and people.seconds >= LOITER_SECONDS:
        points = LOITER_POINTS[role][_TIME_INDEX[part]]
        if points:
            parts.append(
                Part(
                    points,
                    f"people staying {_where(role)}: seen in {people.frames} frames over "
                    f"{people.seconds:.0f} s",
                )
            )
    if WEAPON in sightings:
        parts.append(Part(WEAPON_WITH_PERSON_POINTS, f"a person with a {weapon_names(context)}"))
    across = across_cameras_part(context, role, part)
    if across is not None:
        parts.append(across)
    return parts


def across_cameras_part(context: AnalysisContext, role: CameraRole, part: str) -> Part | None:
    """Points for a person this camera sees after other cameras of the house saw one (the
    incident so far), both off the street; None: no such story."""
    if role is _R.STREET:
        return None
    earlier = sorted(context.earlier_visits, key=lambda v: (v.started_at, v.event_id))
    cameras = list(
        dict.fromkeys(
            visit.camera_name
            for visit in earlier
            if PERSON in visit.kinds
            and visit.camera_id != context.camera_id
            and camera_role(visit.camera_name, visit.camera_role).role is not _R.STREET
        )
    )
    if not cameras:
        return None
    points = ACROSS_CAMERAS_POINTS[_TIME_INDEX[part]] + ACROSS_EACH_MORE_POINTS * (len(cameras) - 1)
    return Part(
        min(points, MAX_ACROSS_CAMERAS_POINTS),
        f"a person seen just before at {', then '.join(cameras)}, now {_where(role)} "
        f"{_when(part)}: moving round the house",
    )


def weapon_names(context: AnalysisContext) -> str:
    """The weapon classes seen, for the reasoning ("knife", "baseball bat and knife")."""
    names = sorted(
        {
            d.object_type.strip().lower()
            for d in context.detections
            if scene.kind_of(d.object_type) == WEAPON
        }
    )
    return " and ".join(names) if names else "weapon"


def score_by_rules(context: AnalysisContext) -> RulesScore:
    """The rules' score of ``context`` and every part of it."""
    role = camera_role(context.camera_name, context.camera_role)
    part = part_of_day(context)
    sightings = scene.by_kind(context.detections)
    if not sightings:
        return RulesScore(0, [], role, part)
    # A large animal counts as the most concerning one seen (a bear before a horse).
    large = _large_animal_sighting(context)
    if large is not None:
        sightings[LARGE_ANIMAL] = large
    presences = {
        kind: _presence_points(kind, sighting, role.role, part)
        for kind, sighting in sightings.items()
    }
    top = max(presences, key=lambda kind: (presences[kind], kind == PERSON))
    seen = sightings[top]
    shown = seen.name if top == LARGE_ANIMAL else scene.noun(top, seen.most_at_once)
    parts = [
        Part(
            presences[top],
            f"{shown} {_where(role.role)} ({_role_source(role)}) {_when(part)}, best confidence "
            f"{seen.best_confidence:.2f}",
        )
    ]
    note = house_mode.night_note(context.house_mode, time_of_day(context.local_time))
    if note is not None:
        parts.append(Part(0, note))
    others = [kind for kind in presences if kind != top and presences[kind] > 0]
    habit = habit_of(context.baseline, top)
    if habit is not None:
        said = _habit_part(top, presences[top], habit, role.role, context.local_time)
        if said.points < 0 and not house_mode.habits_count(context.house_mode, top, part):
            said = Part(0, f"{said.why}; {house_mode.habit_note(context.house_mode)}")
        parts.append(said)
    elif context.baseline is not None and context.baseline.history_days > 0:
        parts.append(Part(0, f"{history_words(context.baseline.history_days)}: the role decides"))
    if PERSON in sightings:
        parts.extend(_people_circumstances(context, sightings, role.role, part))
        zones = zone_part(context.detections, part)  # the owner's zones (policy/zone_scoring.py)
        if zones is not None:
            parts.append(Part(zones.points, zones.why))
    away_kind = PERSON if PERSON in sightings else top
    if away_kind in (PERSON, VEHICLE):
        factor = confidence_factor(sightings[away_kind].best_confidence)
        away = house_mode.away_points(context.house_mode, away_kind, role.role, part, factor)
        if away is not None:
            parts.append(Part(*away))
    score = max(0, min(100, sum(p.points for p in parts)))
    if others:
        parts.append(
            Part(0, "also seen, less concerning: " + ", ".join(scene.noun(k, 2) for k in others))
        )
    adjustment = _feedback_part(context, top, score)
    if adjustment is None:
        return RulesScore(score, parts, role, part)
    return RulesScore(
        score + adjustment.points, parts, role, part, adjustment=adjustment, subtotal=score
    )


def _feedback_part(context: AnalysisContext, kind: str, score: int) -> Part | None:
    """The owner's feedback on this kind at this camera as the score's last part."""
    calibration = context.calibration.of(kind) if context.calibration is not None else None
    if calibration is None:
        return None
    words = in_words(calibration)
    if calibration.false_alarms + calibration.lower + calibration.higher < MIN_FEEDBACK:
        return Part(0, f"owner's feedback ({words}): too few verdicts to adjust the score yet")
    if calibration.offset == 0:
        return Part(0, f"owner's feedback ({words}): no adjustment")
    floor = weapon_floor(context)
    after = calibrated_score(score, calibration.offset, floor.score if floor else None)
    why = f"adjusted by the owner's feedback ({words})"
    if after - score != calibration.offset:
        limit = "the weapon floor" if floor is not None and after == floor.score else "0-100"
        why += f", {calibration.offset:+d} limited by {limit}"
    return Part(after - score, why)


def _when(part: str) -> str:
    return {NIGHT: "at night", DAWN: "at dawn", DAY: "by day", EVENING: "in the evening"}[part]


def _role_source(role: RoleChoice) -> str:
    if role.source == "set":
        return "role set for the camera"
    if role.source == "default":
        return "role unknown, taken as yard"
    return "role guessed from its name"


def explain(result: RulesScore) -> str:
    lines = "; ".join(
        f"{part.why}: {part.points:+d}" if part.points else part.why for part in result.parts
    )
    total = sum(part.points for part in result.parts)
    adjustment = result.adjustment
    if adjustment is None:
        bounded = f" (bounded to {result.score})" if total != result.score else ""
        return f"Rules engine score {result.score}{bounded} = {lines}."
    bounded = " bounded" if total != result.subtotal else ""
    said = f"{adjustment.why}: {adjustment.points:+d}" if adjustment.points else adjustment.why
    subtotal = f"subtotal{bounded} {result.subtotal}"
    return f"Rules engine score {result.score} = {lines} ({subtotal}); {said}."


# --- the weapon floor --------------------------------------------------------------------------
@dataclass(frozen=True)
class Floor:
    score: int
    why: str


def weapon_floor(context: AnalysisContext, bands: RiskBands | None = None) -> Floor | None:
    """The lowest score an event may have: a weapon together with a person is critical in the
    dark and at least high by day (the lowest scores of those bands). None: no floor."""
    bands = bands or RiskBands()
    kinds = {scene.kind_of(d.object_type) for d in context.detections}
    if WEAPON not in kinds or PERSON not in kinds:
        return None
    part = part_of_day(context)
    what = weapon_names(context)
    if is_dark(part):
        return Floor(bands.critical, f"a person with a {what} {_when(part)}: critical at least")
    return Floor(bands.high, f"a person with a {what} {_when(part)}: high at least")


def apply_weapon_floor(
    context: AnalysisContext, assessment: RiskAssessment, bands: RiskBands | None = None
) -> RiskAssessment:
    """``assessment`` raised to the weapon floor when it scored below it, saying so; applied by
    the analyst after any engine (with ``RISK_BANDS``), so no engine can argue it away."""
    floor = weapon_floor(context, bands)
    if floor is None or assessment.risk_score >= floor.score:
        return assessment
    reasoning = (
        f"Weapon floor: raised from {assessment.risk_score} to {floor.score} ({floor.why}; no "
        f"engine may score it lower). {assessment.reasoning}"
    )
    return msgspec.structs.replace(assessment, risk_score=floor.score, reasoning=reasoning)


def history_words(days: float) -> str:
    """How much of the camera's history there is to judge habits by, in plain English."""
    if days < 1:
        return "less than a day of history"
    whole = round(days)
    return f"only {whole} day{'s' if whole != 1 else ''} of history"
