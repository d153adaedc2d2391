"""End to end: a real `homesec up`, where a person standing only in a zone the owner ignores
makes no detection and no event, and the same person once that zone is watched makes a visit
whose detection names the zone (issue 23's "a person standing only in an ignored zone makes no
event").

Doubles at the edges as in test_mode_up.py: the scripted detector (a red marker is a person at
0.95, its box the centre half of the frame, so it stands at (0.5, 0.75)) and the rules engine.
The zones are set through the API, as the dashboard's editor sets them.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select

from homesec.models import Upload
from homesec.store.database import create_engine, session_factory
from tests.support.homesec_process import start_up, stop_up, up_env
from tests.support.images import RED, jpeg_bytes
from tests.support.waiting import eventually_blocking

pytestmark = [pytest.mark.slow]

BOTTOM_HALF = [[0, 0.5], [1, 0.5], [1, 1], [0, 1]]


def call(url: str, method: str = "GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def registered(url: str) -> bool:
    try:
        call(url)
    except urllib.error.HTTPError:
        return False
    return True


def upload_status(database_url: str, name: str) -> str | None:
    async def read() -> str | None:
        engine = create_engine(database_url)
        try:
            async with session_factory(engine)() as session:
                return await session.scalar(
                    select(Upload.status).where(Upload.file_path.like(f"%/{name}"))
                )
        finally:
            await engine.dispose()

    return asyncio.run(read())


def test_a_person_only_in_an_ignored_zone_makes_no_event_through_homesec_up(
    service_data_dir: Path, fresh_database_url, redis_url
):
    camera = f"porch_{secrets.token_hex(2)}"
    data = service_data_dir / "data"
    folder = data / "cameras" / camera
    folder.mkdir(parents=True)
    env = up_env(
        data, fresh_database_url, redis_url, UPLOAD_SETTLE_SECONDS="0.5", FTP_ENABLED="false"
    )
    api = f"http://127.0.0.1:{env['HOMESEC_PORT']}/api"

    process, output = start_up(env)
    try:
        eventually_blocking(
            lambda: registered(f"{api}/cameras/{camera}"), 60, "the camera", interval=0.5
        )
        ignored = [{"name": "pavement", "points": BOTTOM_HALF, "action": "ignore"}]
        assert call(f"{api}/cameras/{camera}/zones", "PUT", ignored)[0]["name"] == "pavement"

        (folder / "snap_0001.jpg").write_bytes(jpeg_bytes(RED, seed=71))
        eventually_blocking(
            lambda: upload_status(fresh_database_url, "snap_0001.jpg") == "done",
            90,
            "the first upload done",
            interval=0.3,
        )
        assert call(f"{api}/detections?camera_id={camera}")["items"] == []
        assert call(f"{api}/events?camera_id={camera}")["items"] == []

        watched = [{"name": "porch", "points": BOTTOM_HALF, "action": "watch"}]
        call(f"{api}/cameras/{camera}/zones", "PUT", watched)
        (folder / "snap_0002.jpg").write_bytes(jpeg_bytes(RED, seed=72))
        events = eventually_blocking(
            lambda: call(f"{api}/events?camera_id={camera}")["items"],
            90,
            "the visit in the watched zone",
            interval=0.3,
        )
        assert events
        [detection] = call(f"{api}/detections?camera_id={camera}")["items"]
        assert detection["object_type"] == "person"
        assert detection["zones"] == ["porch"]
        assert detection["file_path"].endswith("snap_0002.jpg")

        rest = stop_up(process)
    finally:
        if process.poll() is None:
            stop_up(process)
    assert process.returncode == 0, output + rest
