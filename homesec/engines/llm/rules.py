"""A deterministic, explainable risk score: the fallback when no LLM answers
(:func:`fallback_assessment`, which says why), and an engine of its own on machines without one.

The arithmetic lives in :mod:`homesec.policy.scoring` (camera roles, time of day in the
house's zone, the camera's habits from its baselines, loitering, weapons); this module turns it
into an assessment whose ``reasoning`` lists every part with its points, so an owner can see why
an event scored what it did, and whose ``summary`` speaks of objects and frames ("2 people and
1 car, seen in 10 frames over 40 s"). Same context, same answer.
"""

from __future__ import annotations

import msgspec

from homesec.contract.analysis import AnalysisContext, RiskAssessment, ScoredBy
from homesec.engines.llm.base import LlmBadResponse
from homesec.policy.incidents import story_line
from homesec.policy.prompt import MAX_CAMERA_NAME_CHARS, sanitize_text
from homesec.policy.retry import describe_error
from homesec.policy.scene import describe_objects
from homesec.policy.scoring import (
    RULES_VERSION,
    apply_weapon_floor,
    explain,
    score_by_rules,
)

RULES_SCORER = ScoredBy(engine="rules", model=None, prompt_version=RULES_VERSION)
MAX_ERROR_CHARS_IN_REASONING = 300


def summary_line(context: AnalysisContext) -> str:
    """``"2 people and 1 car, seen in 10 frames over 40 s at Driveway at 17:45 (day)."``"""
    camera = sanitize_text(context.camera_name, MAX_CAMERA_NAME_CHARS) or context.camera_id
    seen = describe_objects(context.detections)
    what = seen[0].upper() + seen[1:]
    line = f"{what} at {camera} at {context.local_time:%H:%M}"
    if context.earlier_visits:  # the incident so far (policy/incidents.py)
        story = story_line(context.earlier_visits, context.local_time.tzinfo)
        line += f", after: {story[0].lower()}{story[1:]}"
        return line
    return f"{line}."


def assess_by_rules(context: AnalysisContext) -> RiskAssessment:
    """The rules' verdict on ``context``; pure and synchronous (the engine wraps it)."""
    if not context.detections:
        return RiskAssessment(
            risk_score=0,
            summary=summary_line(context),
            reasoning="Rules engine: no objects were detected, so there is nothing to assess.",
        )
    result = score_by_rules(context)
    assessment = RiskAssessment(
        risk_score=result.score, summary=summary_line(context), reasoning=explain(result)
    )
    # The analyst applies the floor after any engine too; the rules say so themselves.
    return apply_weapon_floor(context, assessment)


def fallback_assessment(
    context: AnalysisContext, attempts: int, error: BaseException
) -> RiskAssessment:
    """The rules' verdict when no LLM gave one after ``attempts`` attempts, its reasoning led by
    why (``error``: the last failure, or why the LLM was not asked)."""
    what = (
        "LLM gave no valid assessment" if isinstance(error, LlmBadResponse) else "LLM unavailable"
    )
    detail = describe_error(error)
    if len(detail) > MAX_ERROR_CHARS_IN_REASONING:
        detail = detail[: MAX_ERROR_CHARS_IN_REASONING - 1] + "…"
    rules = assess_by_rules(context)
    reasoning = (
        f"{what} after {attempts} attempts ({detail}); scored by the rules engine: "
        f"{rules.reasoning}"
    )
    return msgspec.structs.replace(rules, reasoning=reasoning)


class RulesEngine:
    """:func:`assess_by_rules` behind the :class:`~homesec.engines.llm.base.LlmEngine` interface."""

    name = "rules"
    model: str | None = None
    prompt_version = RULES_VERSION

    async def assess(self, context: AnalysisContext) -> RiskAssessment:
        return assess_by_rules(context)

    async def aclose(self) -> None:
        """Nothing to release."""
