"""``events``: one analysed batch of a camera's detections, with its risk assessment."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.dialects.postgresql import TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column, relationship

from homesec.models.base import Base, one_of
from homesec.models.enums import RiskLevel

if TYPE_CHECKING:
    from homesec.models.camera import Camera


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        # A redelivered batch must never make a second event: the Analyst relies on this.
        UniqueConstraint("batch_id"),
        Index("idx_events_camera_id", "camera_id"),
        Index("idx_events_started_at", "started_at"),
        Index("idx_events_risk_score", "risk_score"),
        Index("idx_events_reviewed", "reviewed"),
        # Redundant beside the unique constraint's index, but the contract names it.
        Index("idx_events_batch_id", "batch_id"),
        CheckConstraint("risk_score >= 0 AND risk_score <= 100", name="risk_score_range"),
        CheckConstraint(one_of("risk_level", RiskLevel), name="risk_level_valid"),
        Index("idx_events_supersedes_event_id", "supersedes_event_id"),
        Index("idx_events_incident_id", "incident_id"),
        # Retention reads the held events at every run.
        Index("idx_events_held", "id", postgresql_where=text("held_at IS NOT NULL")),
        Index("idx_events_search_document", "search_document", postgresql_using="gin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[str] = mapped_column(String)
    camera_id: Mapped[str] = mapped_column(String, ForeignKey("cameras.id", ondelete="CASCADE"))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    risk_score: Mapped[int | None]
    risk_level: Mapped[str | None] = mapped_column(String)
    summary: Mapped[str | None] = mapped_column(Text)
    reasoning: Mapped[str | None] = mapped_column(Text)
    # A JSON array as text, as the contract has it: a soft link, no foreign keys.
    detection_ids: Mapped[str | None] = mapped_column(Text)
    reviewed: Mapped[bool] = mapped_column(server_default=false())
    notes: Mapped[str | None] = mapped_column(Text)
    is_fast_path: Mapped[bool] = mapped_column(server_default=false())
    # homesec's additions. A visit's batch event names the fast-path event (the preliminary
    # verdict) it supersedes; the API shows the pair as one visit.
    supersedes_event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", ondelete="SET NULL")
    )
    # The incident (migration 0017) this visit belongs to: visits on different cameras close in
    # time; None: a visit alone.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    # Who scored it: "rules", "openai", "vllm"; the model (None for the rules); the prompt's
    # (or the rules') version.
    scored_by_engine: Mapped[str | None] = mapped_column(String(32))
    scored_by_model: Mapped[str | None] = mapped_column(String(255))
    prompt_version: Mapped[str | None] = mapped_column(String(32))
    # On hold ("keep", issue 24): while set, retention deletes neither the event nor its
    # detections nor their files. The note says why, in the owner's words.
    held_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    hold_note: Mapped[str | None] = mapped_column(Text)
    # Search (revision 0015): the event's words, its camera's name, its objects' kinds and
    # zones, stemmed and weighted; written only by the database's triggers (the migration says
    # why), never by homesec. Deferred: a page of events never needs it loaded.
    search_document: Mapped[str | None] = mapped_column(TSVECTOR, deferred=True)

    camera: Mapped[Camera] = relationship(back_populates="events", lazy="raise")
