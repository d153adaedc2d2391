"""Visits written as the Analyst writes them (its read, then its one write transaction), so
incidents form through the real code: for the alert, API and page tests of incidents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract.analysis import RiskAssessment, ScoredBy
from homesec.contract.jobs import AnalysisJob
from homesec.models import Detection
from homesec.policy.risk import risk_level
from homesec.store.analysis import IncidentRules, ToAnalyse, read_analysis, record_event
from homesec.store.events import StoredEvent

SCORER = ScoredBy(engine="rules", model=None, prompt_version="rules-test")


def _thumbnail(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_bytes(b"\xff\xd8\xff\xe0 a thumbnail \xff\xd9")
    return path


async def write_visit(
    sessions: async_sessionmaker[AsyncSession],
    camera_id: str,
    at: dt.datetime,
    *,
    score: int,
    rules: IncidentRules,
    kind: str = "person",
    summary: str | None = None,
    thumbnail_dir: Path | None = None,
    image: Path | None = None,
) -> StoredEvent:
    """One picture on ``camera_id`` at ``at``, read and written as a batch by the Analyst's
    store functions (the engine's verdict given as ``score``). ``image``: a real picture for
    the dashboard (the box a person's)."""
    thumbnail = None
    if thumbnail_dir is not None:
        thumbnail = _thumbnail(thumbnail_dir, f"{camera_id}-{at.timestamp()}.jpg")
    async with sessions.begin() as session:
        box = {"bbox_x": 60, "bbox_y": 80, "bbox_width": 160, "bbox_height": 320} if image else {}
        row = Detection(
            **box,
            camera_id=camera_id,
            file_path=str(image) if image else f"/cams/{camera_id}/{at.timestamp()}.jpg",
            detected_at=at + dt.timedelta(seconds=3),
            captured_at=at,
            object_type=kind,
            confidence=0.9,
            thumbnail_path=str(thumbnail) if thumbnail else None,
        )
        session.add(row)
        await session.flush()
        detection = row.id
    job = AnalysisJob(batch_id=f"b-{detection}", camera_id=camera_id, detection_ids=[detection])
    read = await read_analysis(sessions, job, rules.zone, 30.0, rules.window_seconds)
    assert isinstance(read, ToAnalyse)
    verdict = RiskAssessment(
        risk_score=score, summary=summary or f"A {kind} at {camera_id}.", reasoning="test"
    )
    event, inserted = await record_event(
        sessions, job, read, verdict, risk_level(score), SCORER, 30.0, rules
    )
    assert inserted
    return event
