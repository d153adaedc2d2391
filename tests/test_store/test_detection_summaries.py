"""What the analyst reads of a batch's detections names each one's image, so a frame is an image
(the detector stamps all the images of one of its batches with one time)."""

from __future__ import annotations

import datetime as dt

from homesec.models import Camera, Detection
from homesec.policy import scene
from homesec.store.detections import summaries_in

NOW = dt.datetime(2026, 12, 4, 22, 0, tzinfo=dt.UTC)


async def test_summaries_name_their_image_and_count_images_as_frames(db_sessions) -> None:
    async with db_sessions.begin() as session:
        session.add(Camera(id="door", name="Door", folder_path="/cams/door"))
        await session.flush()
        rows = [
            Detection(
                camera_id="door", file_path=f"/cams/door/{n}.jpg", object_type="person",
                confidence=0.9, detected_at=NOW + dt.timedelta(seconds=9 * (n // 2)),
            )
            for n in range(7)
        ]  # fmt: skip
        session.add_all(rows)
        await session.flush()
        ids = [row.id for row in rows]
    async with db_sessions() as session:
        found = await summaries_in(session, "door", ids)
    assert [summary.image for summary in found] == [f"/cams/door/{n}.jpg" for n in range(7)]
    assert len({summary.detected_at for summary in found}) == 4
    assert scene.frame_count(found) == 7
