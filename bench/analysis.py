"""Scoring benchmark: how often an engine puts a labelled household situation in a band its owner
accepts. Prints figures, asserts nothing.

The situations are data, in ``bench/scenarios.toml`` (its header says how each is described and
that the labels were written from a homeowner's judgement, not fitted to an engine). Each is
turned into the :class:`~homesec.contract.analysis.AnalysisContext` the analyst would build
(frames spread over the stated seconds, the camera's role when set, its baseline when it has
history, the house's mode) and scored as the analyst scores: the engine, then the weapon floor
that no engine may go below (``policy/scoring.py``), then the bands of ``RISK_BANDS``.

Printed for each engine: band accuracy (in an accepted band), accuracy per group, the band
distribution on the household-traffic subset against the target 80/15/4/1, the confusion matrix
(rows: the accepted band nearest to the verdict; columns: the verdict), and with ``--misses``
every scenario outside its bands with the engine's reasoning.

Engines: the rules engine always; with ``LLM_URL`` set (or ``--llm-url``), also the server there,
through the engine factory (``LLM_ENGINE=openai``, ``LLM_MODEL``, ``LLM_API_KEY``).

    .venv/bin/python bench/analysis.py [--scenarios bench/scenarios.toml] [--misses]
        [--llm-url http://127.0.0.1:8080/v1] [--group household ...]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import sys
import tempfile
import time
import tomllib
import zoneinfo
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homesec.contract.analysis import (
    AnalysisContext,
    BoundingBox,
    CameraBaseline,
    DetectionSummary,
    KindHabit,
    RiskAssessment,
    StationaryThing,
)
from homesec.engines.llm import LlmEngine, create_llm_engine
from homesec.engines.llm.rules import RulesEngine
from homesec.policy.risk import RISK_LEVELS, risk_level
from homesec.policy.scoring import apply_weapon_floor
from homesec.settings import load_settings

SCENARIOS = Path(__file__).with_name("scenarios.toml")
ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
# A Monday in June: weekdays count from it.
WEEK_START = dt.date(2026, 6, 8)
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DEFAULT_CONFIDENCE = 0.88
HOUSEHOLD = "household"
TARGET = {"low": 80.0, "medium": 15.0, "high": 4.0, "critical": 1.0}
TARGET_TOLERANCE = 10.0


@dataclass(frozen=True)
class Scenario:
    id: str
    group: str
    bands: tuple[str, ...]
    context: AnalysisContext


def _frame_offsets(frames: int, seconds: float) -> list[float]:
    if frames <= 1:
        return [0.0]
    return [seconds * i / (frames - 1) for i in range(frames)]


def build_context(raw: dict[str, Any]) -> AnalysisContext:
    """The analysis context the analyst would build for one scenario."""
    hour, minute = (int(part) for part in raw["time"].split(":"))
    day = WEEK_START + dt.timedelta(days=WEEKDAYS.index(raw.get("weekday", "Wed")))
    start = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZONE)
    seconds = float(raw.get("seconds", 0))
    objects = raw["objects"]
    scene_frames = max(int(item.get("frames", 1)) for item in objects)
    offsets = _frame_offsets(scene_frames, seconds)
    detections: list[DetectionSummary] = []
    for item in objects:
        frames = int(item.get("frames", 1))
        # The object's frames spread evenly over the scene's.
        picked = sorted({round(i * (scene_frames - 1) / max(frames - 1, 1)) for i in range(frames)})
        confidence = float(item.get("confidence", DEFAULT_CONFIDENCE))
        for frame in picked:
            for n in range(int(item.get("count", 1))):
                detections.append(
                    DetectionSummary(
                        detection_id=len(detections) + 1,
                        object_type=item["type"],
                        confidence=round(max(0.5, confidence - 0.02 * n), 2),
                        detected_at=(start + dt.timedelta(seconds=offsets[frame])).astimezone(
                            dt.UTC
                        ),
                        bbox=BoundingBox(40 + 120 * n, 60, 80, 200),
                        # The owner's zones it stood in (the detector stores them).
                        zones=list(item.get("zones", [])),
                    )
                )
    detections.sort(key=lambda d: (d.detected_at, d.detection_id))
    baseline = None
    if "history" in raw:
        habits = [KindHabit(kind=k, days_seen=float(v)) for k, v in raw.get("habit", {}).items()]
        baseline = CameraBaseline(history_days=float(raw["history"]), hour=hour, habits=habits)
    return AnalysisContext(
        camera_id=raw["camera"].lower().replace(" ", "_"),
        camera_name=raw["camera"],
        local_time=start,
        detections=detections,
        is_fast_path=bool(raw.get("fast_path", False)),
        camera_role=raw.get("role"),
        baseline=baseline,
        house_mode=raw.get("mode", "home"),
        # What stayed put in the frames (a parked car), parked since an hour before: scenery,
        # never among the detections (issue 23).
        stationary=[
            StationaryThing(
                object_type=kind, since=(start - dt.timedelta(hours=1)).astimezone(dt.UTC)
            )
            for kind in raw.get("stationary", [])
        ],
    )


def load_scenarios(path: Path, groups: list[str] | None) -> list[Scenario]:
    with path.open("rb") as file:
        raw = tomllib.load(file)["scenario"]
    scenarios = []
    for item in raw:
        bands = tuple(item["bands"])
        unknown = [band for band in bands if band not in RISK_LEVELS]
        if unknown:
            raise SystemExit(f"{path}: scenario {item['id']}: unknown band(s) {unknown}")
        if groups and item["group"] not in groups:
            continue
        scenarios.append(Scenario(item["id"], item["group"], bands, build_context(item)))
    return scenarios


def nearest_band(verdict: str, accepted: tuple[str, ...]) -> str:
    """The accepted band closest to ``verdict`` (itself when accepted): a confusion-matrix row."""
    index = RISK_LEVELS.index(verdict)
    return min(accepted, key=lambda band: (abs(RISK_LEVELS.index(band) - index), band))


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    assessment: RiskAssessment
    band: str
    seconds: float

    @property
    def hit(self) -> bool:
        return self.band in self.scenario.bands


async def score_all(engine: LlmEngine, scenarios: list[Scenario]) -> list[Outcome]:
    outcomes = []
    for scenario in scenarios:
        started = time.monotonic()
        try:
            assessment = await engine.assess(scenario.context)
        except Exception as exc:  # an engine's failure is a figure here, not a crash
            print(f"  {scenario.id}: the engine failed: {exc}", file=sys.stderr)
            continue
        elapsed = time.monotonic() - started
        assessment = apply_weapon_floor(scenario.context, assessment)
        outcomes.append(Outcome(scenario, assessment, risk_level(assessment.risk_score), elapsed))
    return outcomes


def _percent(part: int, whole: int) -> float:
    return 100.0 * part / whole if whole else 0.0


def report(title: str, outcomes: list[Outcome], scenarios: list[Scenario], misses: bool) -> None:
    print(f"\n== {title} ==")
    if not outcomes:
        print("no scenario was scored")
        return
    hits = sum(outcome.hit for outcome in outcomes)
    failed = len(scenarios) - len(outcomes)
    print(
        f"band accuracy: {hits}/{len(outcomes)} = {_percent(hits, len(outcomes)):.1f}% in an "
        f"accepted band" + (f" ({failed} not scored: the engine failed)" if failed else "")
    )
    seconds = sorted(outcome.seconds for outcome in outcomes)
    print(
        f"time per assessment: median {seconds[len(seconds) // 2] * 1000:.1f} ms, "
        f"max {seconds[-1] * 1000:.1f} ms"
    )
    groups = sorted({outcome.scenario.group for outcome in outcomes})
    print("by group: " + ", ".join(_group_line(outcomes, group) for group in groups))
    household = [outcome for outcome in outcomes if outcome.scenario.group == HOUSEHOLD]
    if household:
        counts = Counter(outcome.band for outcome in household)
        shares = {band: _percent(counts[band], len(household)) for band in RISK_LEVELS}
        worst = max(abs(shares[band] - TARGET[band]) for band in RISK_LEVELS)
        print(
            f"household traffic ({len(household)}): "
            + " / ".join(f"{band} {shares[band]:.0f}%" for band in RISK_LEVELS)
            + f" (target 80/15/4/1; largest gap {worst:.1f} points, "
            f"{'within' if worst <= TARGET_TOLERANCE else 'outside'} {TARGET_TOLERANCE:.0f})"
        )
    print("confusion (rows: nearest accepted band, columns: verdict):")
    matrix = Counter((nearest_band(o.band, o.scenario.bands), o.band) for o in outcomes)
    print("            " + "".join(f"{band:>10}" for band in RISK_LEVELS))
    for row in RISK_LEVELS:
        print(f"  {row:<10}" + "".join(f"{matrix[(row, col)]:>10}" for col in RISK_LEVELS))
    if misses:
        for outcome in outcomes:
            if not outcome.hit:
                print(
                    f"  MISS {outcome.scenario.id} [{outcome.scenario.group}]: "
                    f"{outcome.assessment.risk_score} {outcome.band}, accepted "
                    f"{'/'.join(outcome.scenario.bands)}\n    {outcome.assessment.reasoning}"
                )


def _group_line(outcomes: list[Outcome], group: str) -> str:
    members = [outcome for outcome in outcomes if outcome.scenario.group == group]
    hits = sum(outcome.hit for outcome in members)
    return f"{group} {hits}/{len(members)}"


def _llm_engine(url: str) -> LlmEngine:
    environ = dict(os.environ)
    environ.update({"LLM_URL": url, "LLM_ENGINE": "openai"})
    environ.setdefault("HOMESEC_DATA_DIR", tempfile.mkdtemp(prefix="homesec-bench-"))
    return create_llm_engine(load_settings(environ))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scenarios", type=Path, default=SCENARIOS)
    parser.add_argument("--group", action="append", help="only these groups (repeatable)")
    parser.add_argument("--misses", action="store_true", help="list the misses with reasoning")
    parser.add_argument("--llm-url", default=os.environ.get("LLM_URL"))
    args = parser.parse_args()
    scenarios = load_scenarios(args.scenarios, args.group)
    print(
        f"{len(scenarios)} scenarios from {args.scenarios}: "
        + ", ".join(
            f"{group} {count}"
            for group, count in sorted(Counter(s.group for s in scenarios).items())
        )
    )
    rules = RulesEngine()
    report("rules engine", await score_all(rules, scenarios), scenarios, args.misses)
    if args.llm_url:
        engine = _llm_engine(args.llm_url)
        try:
            outcomes = await score_all(engine, scenarios)
            report(f"{engine.name} engine at {args.llm_url}", outcomes, scenarios, args.misses)
        finally:
            await engine.aclose()


if __name__ == "__main__":
    asyncio.run(main())
