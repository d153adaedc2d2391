"""``/api/detections``: filters, pagination, and media served only from homesec's folders."""

from __future__ import annotations

import datetime as dt
import io
import os

from PIL import Image

from tests.support.http_app import walk
from tests.support.rows import T0, add_camera, add_detection, write_jpeg


async def test_filters_and_pages(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "front_door")
    await add_camera(db_sessions, settings, "garage")
    made = []
    for index in range(24):
        made.append(
            await add_detection(
                db_sessions,
                camera_id="garage" if index % 4 == 0 else "front_door",
                object_type="car" if index % 2 else "person",
                confidence=index / 24,
                detected_at=T0 + dt.timedelta(minutes=index // 2),  # pairs share a time
            )
        )
    newest_first = list(reversed(made))
    assert await walk(client, "/api/detections", limit=5) == newest_first

    async def ids(**params) -> list[int]:
        response = await client.get("/api/detections", params=params)
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["items"]]

    assert await ids(camera_id="garage") == [i for i in newest_first if (i - 1) % 4 == 0]
    assert await ids(object_type="car") == [i for i in newest_first if (i - 1) % 2]
    assert await ids(min_confidence=0.9) == [24, 23]  # 23/24 and 22/24
    assert await ids(start_date="2025-12-23T12:10:00Z", end_date="2025-12-23T12:11:00Z") == [
        24,
        23,
        22,
        21,
    ]
    for bad in ({"min_confidence": 1.5}, {"limit": 1000}, {"cursor": "%%%"}):
        assert (await client.get("/api/detections", params=bad)).status_code == 400

    detection = (await client.get(f"/api/detections/{made[0]}")).json()
    assert detection["camera_id"] == "garage"
    assert detection["detected_at"] == "2025-12-23T12:00:00Z"
    assert (await client.get("/api/detections/999999")).status_code == 404


async def test_thumbnail_is_served_from_the_thumbnail_directory(
    client, db_sessions, settings
) -> None:
    await add_camera(db_sessions, settings, "front_door")
    thumbnail = write_jpeg(settings.thumbnail_dir / "1.jpg", size=(32, 24))
    detection = await add_detection(
        db_sessions, camera_id="front_door", thumbnail_path=str(thumbnail)
    )
    response = await client.get(f"/api/detections/{detection}/thumbnail")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == thumbnail.read_bytes()


async def test_image_has_the_box_drawn(client, db_sessions, settings) -> None:
    folder = await add_camera(db_sessions, settings, "front_door")
    image = write_jpeg(folder / "image.jpg", size=(200, 100), colour=(0, 0, 0))
    detection = await add_detection(
        db_sessions,
        camera_id="front_door",
        file_path=str(image),
        bbox_x=50,
        bbox_y=20,
        bbox_width=100,
        bbox_height=60,
    )
    response = await client.get(f"/api/detections/{detection}/image")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    drawn = Image.open(io.BytesIO(response.content)).convert("RGB")
    assert drawn.size == (200, 100)
    red, green, _ = drawn.getpixel((50, 50))  # on the box's left edge
    assert red > 200 and green < 120
    assert max(drawn.getpixel((100, 50))) < 40  # inside the box: untouched
    assert max(drawn.getpixel((10, 10))) < 40  # outside the box: untouched


async def test_media_outside_the_folders_is_refused(
    client, db_sessions, settings, tmp_path
) -> None:
    await add_camera(db_sessions, settings, "front_door")
    secret = write_jpeg(tmp_path / "private" / "secret.jpg")
    inside = write_jpeg(settings.foscam_base_path / "front_door" / "ok.jpg")
    escape_link = settings.thumbnail_dir / "escape.jpg"
    os.symlink(secret, escape_link)
    dir_link = settings.foscam_base_path / "front_door" / "linked"
    os.symlink(secret.parent, dir_link)

    refused = {
        "absolute path outside": str(secret),
        "dot-dot out of the thumbnails": str(
            settings.thumbnail_dir / ".." / ".." / "private" / "secret.jpg"
        ),
        "symlink escaping": str(escape_link),
        "relative path": "thumbnails/1.jpg",
        "camera folder is not the thumbnail folder": str(inside),
    }
    for reason, stored in refused.items():
        detection = await add_detection(
            db_sessions, camera_id="front_door", thumbnail_path=stored, file_path=stored
        )
        response = await client.get(f"/api/detections/{detection}/thumbnail")
        assert response.status_code == 403, reason
        assert response.headers["content-type"].startswith("application/problem+json")
        assert secret.read_bytes() not in response.content

    via_linked_dir = await add_detection(
        db_sessions, camera_id="front_door", file_path=str(dir_link / "secret.jpg")
    )
    assert (await client.get(f"/api/detections/{via_linked_dir}/image")).status_code == 403

    missing = await add_detection(
        db_sessions, camera_id="front_door", thumbnail_path=str(settings.thumbnail_dir / "gone.jpg")
    )
    assert (await client.get(f"/api/detections/{missing}/thumbnail")).status_code == 404
    none = await add_detection(db_sessions, camera_id="front_door")
    assert (await client.get(f"/api/detections/{none}/thumbnail")).status_code == 404


async def test_an_undecodable_image_is_422(client, db_sessions, settings) -> None:
    folder = await add_camera(db_sessions, settings, "front_door")
    broken = folder / "broken.jpg"
    broken.write_bytes(b"not a jpeg at all")
    detection = await add_detection(db_sessions, camera_id="front_door", file_path=str(broken))
    response = await client.get(f"/api/detections/{detection}/image")
    assert response.status_code == 422
    assert "cannot be decoded" in response.json()["detail"]


async def test_a_detection_says_when_its_picture_was_taken(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "porch")
    taken = T0 - dt.timedelta(seconds=64)
    new = await add_detection(db_sessions, camera_id="porch", captured_at=taken)
    old = await add_detection(db_sessions, camera_id="porch")  # stored before capture times

    found = (await client.get(f"/api/detections/{new}")).json()
    assert dt.datetime.fromisoformat(found["captured_at"]) == taken
    assert dt.datetime.fromisoformat(found["detected_at"]) == T0
    assert (await client.get(f"/api/detections/{old}")).json()["captured_at"] is None


async def test_a_detection_says_whether_it_stayed_put(client, db_sessions, settings) -> None:
    await add_camera(db_sessions, settings, "drive")
    since = T0 - dt.timedelta(hours=3)
    parked = await add_detection(
        db_sessions, camera_id="drive", object_type="car", stationary=True, spot_since=since
    )
    passing = await add_detection(db_sessions, camera_id="drive", spot_since=T0)
    older = await add_detection(db_sessions, camera_id="drive")  # stored before the column

    found = (await client.get(f"/api/detections/{parked}")).json()
    assert found["stationary"] is True
    assert dt.datetime.fromisoformat(found["stationary_since"]) == since
    for moving in (passing, older):
        found = (await client.get(f"/api/detections/{moving}")).json()
        assert (found["stationary"], found["stationary_since"]) == (False, None)
    listed = (await client.get("/api/detections", params={"camera_id": "drive"})).json()
    assert {item["id"]: item["stationary"] for item in listed["items"]} == {
        parked: True,
        passing: False,
        older: False,
    }
