"""``/api/cameras``: create with a folder, read, update, delete with cascade, snapshot."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from homesec.files.camera_folders import archive_folder
from homesec.models import Detection, Event, Upload, UploadStatus
from tests.support.rows import add_camera, add_detection, add_event, write_jpeg


async def test_create_makes_the_folder_and_normalises_the_id(client, settings) -> None:
    response = await client.post("/api/cameras", json={"name": "Front Door"})
    assert response.status_code == 201
    camera = response.json()
    assert camera["id"] == "front_door"
    assert camera["name"] == "Front Door"
    assert camera["status"] == "online"
    assert camera["folder_path"] == str(settings.foscam_base_path / "front_door")
    assert (settings.foscam_base_path / "front_door").is_dir()

    assert (await client.get("/api/cameras/front_door")).json() == camera
    listing = (await client.get("/api/cameras")).json()
    assert listing == {"items": [camera], "count": 1}


async def test_create_with_an_explicit_id_and_status(client, settings) -> None:
    response = await client.post(
        "/api/cameras", json={"name": "Garage", "id": "cam-2", "status": "offline"}
    )
    assert response.status_code == 201
    assert response.json()["id"] == "cam-2"
    assert response.json()["status"] == "offline"
    assert (settings.foscam_base_path / "cam-2").is_dir()


async def test_create_refuses_a_taken_id(client) -> None:
    assert (await client.post("/api/cameras", json={"name": "Front Door"})).status_code == 201
    again = await client.post("/api/cameras", json={"name": "front door"})
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    assert "already exists" in again.json()["detail"]


async def test_create_refuses_bad_input_with_the_field_named(client) -> None:
    cases = [
        ({"name": "Porch", "id": "Not Normalised"}, "not a camera id"),
        ({"name": "!!!"}, "no letters or digits"),
        ({"name": ""}, "name"),
        ({"name": "Porch", "status": "asleep"}, "status"),
        ({"name": "Porch", "colour": "red"}, "colour"),
        ({}, "name"),
    ]
    for body, expected in cases:
        response = await client.post("/api/cameras", json=body)
        assert response.status_code == 400, body
        assert expected in response.json()["detail"], (body, response.json())


async def test_update_changes_name_and_status_only(client) -> None:
    await client.post("/api/cameras", json={"name": "Front Door"})
    response = await client.patch(
        "/api/cameras/front_door", json={"name": "Front door (porch)", "status": "error"}
    )
    assert response.status_code == 200
    assert response.json()["name"] == "Front door (porch)"
    assert response.json()["status"] == "error"

    moved = await client.patch("/api/cameras/front_door", json={"folder_path": "/etc"})
    assert moved.status_code == 400
    missing = await client.patch("/api/cameras/nope", json={"name": "x"})
    assert missing.status_code == 404


async def test_a_camera_role_is_set_cleared_and_checked(client) -> None:
    await client.post("/api/cameras", json={"name": "Front Door"})
    guessed = (await client.get("/api/cameras/front_door")).json()
    assert (guessed["role"], guessed["scoring_role"], guessed["role_source"]) == (
        None,
        "entrance",
        "guessed from the name",
    )
    response = await client.patch("/api/cameras/front_door", json={"role": "street"})
    assert response.status_code == 200
    assert (response.json()["role"], response.json()["scoring_role"]) == ("street", "street")
    assert response.json()["role_source"] == "set"
    wrong = await client.patch("/api/cameras/front_door", json={"role": "moat"})
    assert wrong.status_code == 400 and "role" in wrong.text
    cleared = await client.patch("/api/cameras/front_door", json={"role": None})
    assert (cleared.json()["role"], cleared.json()["scoring_role"]) == (None, "entrance")


async def test_delete_cascades_to_detections_and_events(client, db_sessions, settings) -> None:
    folder = await add_camera(db_sessions, settings, "front_door")
    write_jpeg(folder / "snap.jpg")
    await add_camera(db_sessions, settings, "garage")
    for camera in ("front_door", "garage"):
        detection = await add_detection(db_sessions, camera_id=camera)
        await add_event(
            db_sessions, camera_id=camera, batch_id=f"b-{camera}", detection_ids=f"[{detection}]"
        )

    assert (await client.delete("/api/cameras/front_door")).status_code == 204
    assert (await client.get("/api/cameras/front_door")).status_code == 404
    assert (await client.delete("/api/cameras/front_door")).status_code == 404
    async with db_sessions() as session:
        for model in (Detection, Event):
            cameras = (await session.scalars(select(model.camera_id))).all()
            assert cameras == ["garage"]
    # The images are the user's: deleting the camera keeps them, moved where discovery does
    # not find them, so the camera stays deleted; the other camera's folder is untouched.
    assert not (settings.foscam_base_path / "front_door").exists()
    [archived] = (settings.foscam_base_path / ".removed").iterdir()
    assert archived.name.startswith("front_door-") and (archived / "snap.jpg").is_file()
    assert (settings.foscam_base_path / "garage").is_dir()


async def test_snapshot_prefers_the_newest_finished_upload(client, db_sessions, settings) -> None:
    folder = await add_camera(db_sessions, settings, "front_door")
    older = write_jpeg(folder / "older.jpg", colour=(10, 10, 10))
    newest = write_jpeg(folder / "newest.jpg", size=(80, 60))
    rejected = write_jpeg(folder / "rejected.jpg", size=(20, 20))
    async with db_sessions.begin() as session:
        session.add(Upload(camera_id="front_door", file_path=str(older), status=UploadStatus.DONE))
        await session.flush()
        session.add(Upload(camera_id="front_door", file_path=str(newest), status=UploadStatus.DONE))
        await session.flush()
        session.add(
            Upload(camera_id="front_door", file_path=str(rejected), status=UploadStatus.REJECTED)
        )
    response = await client.get("/api/cameras/front_door/snapshot")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == newest.read_bytes()


async def test_snapshot_falls_back_to_the_newest_detection(client, db_sessions, settings) -> None:
    folder = await add_camera(db_sessions, settings, "front_door")
    image = write_jpeg(folder / "seen.jpg")
    await add_detection(db_sessions, camera_id="front_door", file_path=str(image))
    response = await client.get("/api/cameras/front_door/snapshot")
    assert response.status_code == 200
    assert response.content == image.read_bytes()


async def test_snapshot_404_without_an_image_and_403_outside_the_folders(
    client, db_sessions, settings, tmp_path
) -> None:
    await add_camera(db_sessions, settings, "front_door")
    assert (await client.get("/api/cameras/front_door/snapshot")).status_code == 404
    assert (await client.get("/api/cameras/nope/snapshot")).status_code == 404

    outside = write_jpeg(tmp_path / "elsewhere" / "secret.jpg")
    await add_detection(db_sessions, camera_id="front_door", file_path=str(outside))
    response = await client.get("/api/cameras/front_door/snapshot")
    assert response.status_code == 403
    assert "outside" in response.json()["detail"]
    async with db_sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Detection)) == 1


async def test_a_camera_removed_three_times_within_a_second_keeps_three_archives(
    client, settings
) -> None:
    # Issue 21: archive names had one-second resolution, so the second removal's folder went
    # inside the first's archive and the third failed with a 500.
    for round_ in range(3):
        assert (await client.post("/api/cameras", json={"name": "Front Door"})).status_code == 201
        write_jpeg(settings.foscam_base_path / "front_door" / f"snap-{round_}.jpg")
        removed = await client.delete("/api/cameras/front_door")
        assert removed.status_code == 204, removed.text
    again = await client.delete("/api/cameras/front_door")
    assert again.status_code == 404
    assert again.headers["content-type"].startswith("application/problem+json")

    archives = sorted((settings.foscam_base_path / ".removed").iterdir())
    assert len(archives) == 3
    kept = sorted(path.name for archive in archives for path in archive.iterdir())
    assert kept == ["snap-0.jpg", "snap-1.jpg", "snap-2.jpg"]  # one each, none nested


async def test_concurrent_removals_of_one_camera_are_204_or_404(
    client, db_sessions, settings
) -> None:
    folder = await add_camera(db_sessions, settings, "front_door")
    write_jpeg(folder / "snap.jpg")
    responses = await asyncio.gather(*(client.delete("/api/cameras/front_door") for _ in range(3)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses[0] == 204 and set(statuses) <= {204, 404}, [r.text for r in responses]
    [archived] = (settings.foscam_base_path / ".removed").iterdir()
    assert (archived / "snap.jpg").is_file()


def test_archive_names_never_collide(tmp_path) -> None:
    base = tmp_path / "cameras"
    targets = []
    for _ in range(3):
        (base / "porch").mkdir(parents=True)
        targets.append(archive_folder(base / "porch", base, "20260101T000000Z"))
    assert len(set(targets)) == 3
    assert all(target is not None and target.parent == base / ".removed" for target in targets)
    assert all(not (target / "porch").exists() for target in targets)


async def test_each_camera_says_how_many_uploads_were_rejected(client, db_sessions, settings):
    """What the Cameras page shows: the ``rejected`` rows of the uploads ledger per camera."""
    folder = await add_camera(db_sessions, settings, "front_door")
    await add_camera(db_sessions, settings, "back_yard")
    async with db_sessions.begin() as session:
        for name, status in (("a.jpg", "rejected"), ("b.jpg", "rejected"), ("c.jpg", "done")):
            session.add(Upload(camera_id="front_door", file_path=str(folder / name), status=status))
    listed = (await client.get("/api/cameras")).json()["items"]
    counts = {camera["id"]: camera["rejected_uploads"] for camera in listed}
    assert counts == {"front_door": 2, "back_yard": 0}
    one = (await client.get("/api/cameras/front_door")).json()
    assert one["rejected_uploads"] == 2 and one["last_rejected_at"] is not None
    other = (await client.get("/api/cameras/back_yard")).json()
    assert other["rejected_uploads"] == 0 and other["last_rejected_at"] is None
