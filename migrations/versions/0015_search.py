"""Search (issue 24): each event's words in a stored, indexed ``tsvector``.

``events.search_document`` holds, with English stemming ("deliveries" and "delivery" are one
word), weighted for ranking:

- A: the summary and the owner's notes (``events.notes``);
- B: the camera's name and id, the kinds of the objects and the names of the zones they stood
  in (``detections.object_type`` and ``detections.zones`` of ``events.detection_ids``);
- C: the reasoning;
- and, as lexemes no English word can stem to (``camera:front_door``, ``band:high``,
  ``kind:person``), the event's camera id, risk level and object kinds, never changed after
  the event is written: a search with the camera, band or object filter asks the GIN index for
  all of it at once, instead of visiting every heap row of a common word on that camera.

Why stored and kept by triggers rather than joined at query time: a search must AND words that
come from different tables ("person back door": a kind and a camera's name), and only one
document per event with one GIN index answers that in milliseconds at a million events. The
parts live in three tables, so a generated column (own columns only) cannot hold them:

- ``events_search_document`` (BEFORE INSERT OR UPDATE OF the event's words) builds the row's
  document. Detections are never changed after their event is written (only
  ``thumbnail_path``), so their kinds and zones are read once, by primary key.
- ``cameras_search_document`` (AFTER UPDATE OF ``name``) rebuilds the documents of a renamed
  camera's events: one UPDATE of that camera's events (a house's 30 days are thousands of rows,
  well under a second), rare, and it keeps every search exact.

Existing events get their document here. Additions only.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The document of one event from its columns. STABLE: it reads cameras and detections.
# detection_ids is JSON text written by the analyst; the ids are taken with a regular
# expression rather than a JSON cast so that a malformed value can never make an INSERT fail.
DOCUMENT_FUNCTION = r"""
CREATE FUNCTION homesec_event_search_document(
    event_camera_id varchar, risk_level varchar, summary text, notes text, reasoning text,
    detection_ids text
) RETURNS tsvector LANGUAGE sql STABLE AS $$
    WITH kinds AS (
        SELECT d.object_type, d.zones
        FROM detections AS d
        WHERE d.id IN (
            SELECT found[1]::bigint
            FROM regexp_matches(coalesce(detection_ids, ''), '(\d{1,18})', 'g') AS found
        )
    )
    SELECT setweight(to_tsvector('english', coalesce(summary, '') || ' ' || coalesce(notes, '')), 'A')
        || setweight(to_tsvector('english',
               coalesce((SELECT name || ' ' || id FROM cameras WHERE id = event_camera_id), '')
               || ' ' || coalesce((
                   SELECT string_agg(DISTINCT part, ' ')
                   FROM kinds
                   CROSS JOIN LATERAL unnest(
                       array_append(coalesce(kinds.zones, '{}'::varchar[]), kinds.object_type)
                   ) AS part
               ), '')), 'B')
        || setweight(to_tsvector('english', coalesce(reasoning, '')), 'C')
        || array_to_tsvector(
               ARRAY['camera:' || event_camera_id, 'band:' || coalesce(risk_level, 'unscored')]
               || coalesce((
                   SELECT array_agg(DISTINCT 'kind:' || object_type)
                   FROM kinds WHERE object_type IS NOT NULL
               ), '{}'::text[])
           )
$$
"""

EVENTS_TRIGGER_FUNCTION = """
CREATE FUNCTION homesec_events_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.search_document := homesec_event_search_document(
        NEW.camera_id, NEW.risk_level, NEW.summary, NEW.notes, NEW.reasoning, NEW.detection_ids
    );
    RETURN NEW;
END
$$
"""

EVENTS_TRIGGER = """
CREATE TRIGGER events_search_document
BEFORE INSERT OR UPDATE OF camera_id, risk_level, summary, notes, reasoning, detection_ids
ON events
FOR EACH ROW EXECUTE FUNCTION homesec_events_search_document()
"""

CAMERAS_TRIGGER_FUNCTION = """
CREATE FUNCTION homesec_cameras_search_document() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE events SET search_document = homesec_event_search_document(
        camera_id, risk_level, summary, notes, reasoning, detection_ids
    ) WHERE camera_id = NEW.id;
    RETURN NULL;
END
$$
"""

CAMERAS_TRIGGER = """
CREATE TRIGGER cameras_search_document
AFTER UPDATE OF name ON cameras
FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name)
EXECUTE FUNCTION homesec_cameras_search_document()
"""


def upgrade() -> None:
    op.add_column("events", sa.Column("search_document", postgresql.TSVECTOR(), nullable=True))
    op.execute(DOCUMENT_FUNCTION)
    op.execute(EVENTS_TRIGGER_FUNCTION)
    op.execute(EVENTS_TRIGGER)
    op.execute(CAMERAS_TRIGGER_FUNCTION)
    op.execute(CAMERAS_TRIGGER)
    op.execute(
        "UPDATE events SET search_document = homesec_event_search_document("
        "camera_id, risk_level, summary, notes, reasoning, detection_ids)"
    )
    op.create_index(
        "idx_events_search_document",
        "events",
        ["search_document"],
        postgresql_using="gin",
    )


def downgrade() -> None:
    op.drop_index("idx_events_search_document", table_name="events")
    op.execute("DROP TRIGGER cameras_search_document ON cameras")
    op.execute("DROP FUNCTION homesec_cameras_search_document()")
    op.execute("DROP TRIGGER events_search_document ON events")
    op.execute("DROP FUNCTION homesec_events_search_document()")
    op.execute(
        "DROP FUNCTION homesec_event_search_document(varchar, varchar, text, text, text, text)"
    )
    op.drop_column("events", "search_document")
