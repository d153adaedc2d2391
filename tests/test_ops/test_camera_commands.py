"""`homesec camera ...` against a real PostgreSQL: what the owner reads in the terminal."""

from __future__ import annotations

from homesec.ops.cameras import camera_add, camera_list
from homesec.settings import load_settings


def test_camera_list_shows_each_cameras_name_beside_its_id(tmp_path, clean_db, database_url):
    settings = load_settings({"HOMESEC_DATA_DIR": str(tmp_path), "DATABASE_URL": database_url})
    printed: list[str] = []
    assert camera_add(settings, "Front Door", None, say=lambda _: None) == 0
    assert camera_add(settings, "Garage (side entrance)", None, say=lambda _: None) == 0

    assert camera_list(settings, say=printed.append) == 0

    header, *rows = printed
    assert header.split() == ["CAMERA", "NAME", "FTP", "USER", "FOLDER"]
    assert rows[0].startswith("front_door") and "Front Door" in rows[0]
    assert rows[1].startswith("garage_side_entrance") and "Garage (side entrance)" in rows[1]
    # Columns line up: every row's name starts where the header's NAME does.
    column = header.index("NAME")
    assert [
        row[column:].startswith(name)
        for row, name in zip(rows, ["Front Door", "Garage (side entrance)"], strict=True)
    ] == [True, True]
