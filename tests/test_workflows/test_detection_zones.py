"""DetectionWork with camera zones, on a real PostgreSQL and Redis (the scripted engine and the
recording Batchers of tests/support/detection_work.py): a person standing only in an ignored
zone is never stored or handed to a Batcher, so no event can come of it; stored detections say
their zones; a zone saved while the Detector runs holds from its next batch."""

from __future__ import annotations

from homesec.contract.zones import Zone, ZoneAction
from homesec.models import UploadStatus
from homesec.store import camera_zones
from tests.support.detection_work import rows, statuses
from tests.support.images import BLUE, RED
from tests.support.pipeline import CAMERA, all_acknowledged

# The scripted engine's box is (0, 0, 40, 40) on a 640 x 480 image: it stands at (0.03, 0.08).
TOP_LEFT = [(0.0, 0.0), (0.2, 0.0), (0.2, 0.2), (0.0, 0.2)]
ELSEWHERE = [(0.5, 0.5), (1.0, 0.5), (1.0, 1.0), (0.5, 1.0)]


def zone(name: str, action: ZoneAction, points=TOP_LEFT, objects=None) -> Zone:
    return Zone(name=name, points=points, action=action, objects=objects)


async def test_a_person_only_in_an_ignored_zone_is_dropped_before_batching(
    house, db_sessions, redis_client
):
    await camera_zones.replace_zones(db_sessions, CAMERA, [zone("street", ZoneAction.IGNORE)])
    job = await house.queue("a.jpg", RED)

    assert await house.work.round() is None

    assert await rows(db_sessions) == []  # never stored ...
    assert house.directory.handed == []  # ... nor batched: no verdict can come of it
    assert await all_acknowledged(redis_client)
    assert (await statuses(db_sessions)) == {job.file_path: UploadStatus.DONE}
    assert house.tally.counters["ignored_in_zones"] == 1
    assert house.tally.counters["detections"] == 0


async def test_stored_detections_say_their_zones(house, db_sessions):
    await camera_zones.replace_zones(
        db_sessions,
        CAMERA,
        [
            zone("porch", ZoneAction.WATCH),
            zone("street", ZoneAction.IGNORE),  # overlapped by a watch zone: kept
            zone("driveway", ZoneAction.WATCH, objects=["car"]),  # not for people
            zone("garden", ZoneAction.WATCH, points=ELSEWHERE),
        ],
    )
    await house.queue("a.jpg", RED)
    await house.queue("b.jpg", BLUE)

    assert await house.work.round() is None

    stored = await rows(db_sessions)
    assert [(r.object_type, r.zones) for r in stored] == [
        ("person", ["porch", "street"]),
        ("car", ["porch", "street", "driveway"]),
    ]
    assert len(house.directory.handed[0][1]) == 2


async def test_without_zones_detections_are_in_none_and_all_are_kept(house, db_sessions):
    await house.queue("a.jpg", RED)
    assert await house.work.round() is None
    assert [(r.object_type, r.zones) for r in await rows(db_sessions)] == [("person", [])]


async def test_a_zone_saved_while_the_detector_runs_holds_from_its_next_batch(house, db_sessions):
    await house.queue("a.jpg", RED)
    assert await house.work.round() is None
    assert len(await rows(db_sessions)) == 1

    await camera_zones.replace_zones(db_sessions, CAMERA, [zone("street", ZoneAction.IGNORE)])
    await house.queue("b.jpg", RED)
    assert await house.work.round() is None
    assert len(await rows(db_sessions)) == 1  # the second person stood in the street
    assert house.tally.counters["ignored_in_zones"] == 1

    await camera_zones.replace_zones(db_sessions, CAMERA, [])
    await house.queue("c.jpg", RED)
    assert await house.work.round() is None
    assert len(await rows(db_sessions)) == 2
