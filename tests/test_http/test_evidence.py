"""``GET /api/events/{id}/evidence`` and ``PUT|DELETE /api/events/{id}/hold`` (issue 24): the
download verifies as ``homesec evidence verify`` checks it; an unknown event is a clear 404."""

from __future__ import annotations

import zipfile

from homesec.files.evidence_archive import verify_archive
from tests.support.evidence import member, rewrite_zip, seed_evidence_event


async def test_the_download_is_a_signed_archive_that_verifies(
    client, db_sessions, settings, tmp_path
):
    seeded = await seed_evidence_event(db_sessions, settings)

    response = await client.get(f"/api/events/{seeded.event_id}/evidence")

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    disposition = response.headers["content-disposition"]
    assert f'filename="homesec-event-{seeded.event_id}.zip"' in disposition
    assert int(response.headers["content-length"]) == len(response.content)
    saved = tmp_path / "download.zip"
    saved.write_bytes(response.content)
    result = verify_archive(saved, settings.data_dir)
    assert result.findings == []
    assert result.box is not None and result.signer == result.box  # the box's own key signed it
    with zipfile.ZipFile(saved) as archive:
        original = archive.read(
            member(dict.fromkeys(archive.namelist(), b""), "originals/02-snap2.jpg")
        )
    assert original == seeded.originals[1].read_bytes()
    # and a change to it is caught
    tampered = rewrite_zip(saved, lambda m: m.pop(member(m, "README.txt")))
    [finding] = verify_archive(tampered, settings.data_dir).findings
    assert finding.line() == "file missing: README.txt"


async def test_an_unknown_event_has_no_evidence(client):
    response = await client.get("/api/events/987654/evidence")
    assert response.status_code == 404
    assert response.json()["detail"] == "no event with id 987654"


async def test_a_hold_is_shown_changed_and_released(client, db_sessions, settings):
    seeded = await seed_evidence_event(db_sessions, settings)
    path = f"/api/events/{seeded.event_id}/hold"

    held = await client.put(path, json={"note": "insurance claim 42"})
    assert held.status_code == 200, held.text
    first = held.json()
    assert first["held_at"] and first["hold_note"] == "insurance claim 42"
    again = (await client.put(path, json={"note": "police report"})).json()
    assert again["held_at"] == first["held_at"] and again["hold_note"] == "police report"
    shown = (await client.get(f"/api/events/{seeded.event_id}")).json()
    assert shown["held_at"] == first["held_at"]

    released = await client.delete(path)
    assert released.status_code == 200
    assert "held_at" not in released.json() and "hold_note" not in released.json()
    assert (await client.put(path)).json()["held_at"]  # a body is optional

    assert (await client.put("/api/events/987654/hold", json={})).status_code == 404
    assert (await client.delete("/api/events/987654/hold")).status_code == 404
    assert (await client.put(path, json={"why": "x"})).status_code == 400
