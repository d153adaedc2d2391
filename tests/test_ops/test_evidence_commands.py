"""`homesec evidence export` and `homesec evidence verify` against a real PostgreSQL and real
files: the round trip, what the archive holds, and each kind of tampering named as it is."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import zipfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from homesec.files.evidence_key import key_path
from homesec.ops.evidence import evidence_export, evidence_verify
from homesec.settings import Settings
from tests.support.evidence import SeededEvent, member, rewrite_zip, seed_evidence_event
from tests.support.homesec_process import homesec
from tests.support.settings import make_settings


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return make_settings(
        tmp_path / "box", env={"DATABASE_URL": database_url, "HOMESEC_TIMEZONE": "Europe/Berlin"}
    )


@pytest.fixture
async def seeded(db_sessions, settings) -> SeededEvent:
    return await seed_evidence_event(db_sessions, settings)


@pytest.fixture
def archive(settings, seeded, tmp_path) -> Path:
    out = tmp_path / "out" / "evidence.zip"
    printed: list[str] = []
    assert evidence_export(settings, seeded.event_id, out, say=printed.append) == 0
    assert printed[0].startswith(f"Wrote {out}: event #{seeded.event_id} of Back Door, 2 of 2")
    return out


def verify(settings: Settings, path: Path) -> tuple[int, list[str]]:
    printed: list[str] = []
    code = evidence_verify(settings, path, say=printed.append)
    return code, printed


def test_the_archive_holds_the_originals_bit_for_bit_and_the_events_facts(
    settings, seeded, archive
):
    with zipfile.ZipFile(archive) as opened:
        names = sorted(opened.namelist())
        folder = f"homesec-event-{seeded.event_id}/"
        assert names == sorted(
            folder + name
            for name in (
                "README.txt",
                "annotated/01-snap_1.jpg",
                "annotated/02-snap2.jpg",
                "manifest.json",
                "manifest.sig",
                "originals/01-snap_1.jpg",
                "originals/02-snap2.jpg",
                "public_key.pem",
            )
        )
        for number, original in enumerate(seeded.originals, start=1):
            [name] = [n for n in names if n.startswith(f"{folder}originals/0{number}-")]
            assert opened.read(name) == original.read_bytes()
        manifest = json.loads(opened.read(folder + "manifest.json"))
        annotated = opened.read(folder + "annotated/01-snap_1.jpg")
    assert annotated[:2] == b"\xff\xd8" and annotated != seeded.originals[0].read_bytes()
    assert manifest["camera"] == {"id": "back_door", "name": "Back Door", "role": "entrance"}
    verdict = manifest["verdict"]
    assert (verdict["risk_score"], verdict["risk_level"], verdict["scored_by_engine"]) == (
        72,
        "high",
        "rules",
    )
    assert verdict["reasoning"].startswith("A person at an entrance at 03:30")
    assert manifest["zone"] == "Europe/Berlin"
    first = manifest["frames"][0]
    assert first["taken"] == {"utc": "2026-07-04T01:30:05Z", "local": "2026-07-04T03:30:05+02:00"}
    assert first["received"]["local"] == "2026-07-04T03:30:09+02:00"
    assert first["processed"]["utc"] == "2026-07-04T01:30:11Z"
    assert first["matches_upload"] is True
    assert [box["object_type"] for box in first["boxes"]] == ["person", "backpack"]
    assert "incidents across cameras are not exported" in manifest["scope"]
    by_path = {file["path"]: file for file in manifest["files"]}
    original = seeded.originals[1].read_bytes()
    assert by_path["originals/02-snap2.jpg"] == {
        "path": "originals/02-snap2.jpg",
        "size": len(original),
        "sha256": hashlib.sha256(original).hexdigest(),
    }
    # The private key stays on the box, readable by its owner only; the archive has the public.
    mode = stat.S_IMODE(os.stat(key_path(settings.data_dir)).st_mode)
    assert mode == 0o600


def test_an_untouched_archive_verifies_and_names_this_box_as_signer(settings, archive):
    code, printed = verify(settings, archive)
    assert code == 0, printed
    assert printed[-1].startswith("OK: every file matches the signed manifest; signed by this box")


def _flip_a_byte(members: dict[str, bytes]) -> None:
    name = member(members, "originals/01-snap_1.jpg")
    data = bytearray(members[name])
    data[len(data) // 2] ^= 0x01
    members[name] = bytes(data)


def _remove(members: dict[str, bytes]) -> None:
    del members[member(members, "annotated/02-snap2.jpg")]


def _add(members: dict[str, bytes]) -> None:
    folder = member(members, "manifest.json").split("/")[0]
    members[f"{folder}/originals/03-planted.jpg"] = b"\xff\xd8 not from the camera"


def _add_beside(members: dict[str, bytes]) -> None:
    members["note-from-the-neighbour.txt"] = b"this was not in the archive"


def _edit_manifest(members: dict[str, bytes]) -> None:
    name = member(members, "manifest.json")
    members[name] = members[name].replace(b'"risk_score": 72', b'"risk_score": 12')


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (_flip_a_byte, "file changed: originals/01-snap_1.jpg (SHA-256 "),
        (_remove, "file missing: annotated/02-snap2.jpg"),
        (_add, "file added: originals/03-planted.jpg"),
        (_add_beside, "file added: note-from-the-neighbour.txt"),
        (_edit_manifest, "manifest altered: manifest.json (its signature does not match"),
    ],
    ids=["changed byte", "removed file", "added file", "added beside", "edited manifest"],
)
def test_each_kind_of_tampering_is_named(settings, archive, tamper, expected):
    tampered = rewrite_zip(archive, tamper)

    code, printed = verify(settings, tampered)

    assert code == 1
    header, finding, verdict = printed  # exactly one problem, the one made
    assert header.startswith(f"{tampered}: event #")
    assert finding.startswith(expected), printed
    assert verdict == "NOT INTACT: 1 problem(s)"


def test_an_archive_signed_again_by_another_key_is_told_apart_on_the_box(settings, archive):
    """Someone edits the manifest and signs it with a key of their own, shipping their public
    key: the signature is valid, but not the box's."""
    other = Ed25519PrivateKey.generate()

    def resign(members: dict[str, bytes]) -> None:
        _edit_manifest(members)
        manifest = members[member(members, "manifest.json")]
        members[member(members, "manifest.sig")] = other.sign(manifest)
        members[member(members, "public_key.pem")] = other.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    code, printed = verify(settings, rewrite_zip(archive, resign))

    assert code == 1
    assert any(line.startswith("signed by another key than this box's: ") for line in printed)
    # Off the box (no key of its own under its data dir) the same archive looks intact, and the
    # signer's fingerprint is printed to compare with the box's.
    elsewhere = make_settings(settings.data_dir.parent / "elsewhere")
    code, printed = verify(elsewhere, rewrite_zip(archive, resign))
    assert code == 0
    assert "not on the box" in printed[-1]


def test_the_command_line_exports_and_verifies_and_exits_nonzero_when_tampered(
    settings, seeded, tmp_path
):
    """The real `homesec` process, as an owner runs it on the box."""
    env = {
        **os.environ,
        "HOMESEC_DATA_DIR": str(settings.data_dir),
        "DATABASE_URL": str(settings.database_url),
        "HOMESEC_TIMEZONE": "Europe/Berlin",
    }
    out = tmp_path / "cli.zip"
    exported = homesec("evidence", "export", str(seeded.event_id), "-o", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    assert f"Wrote {out}: event #{seeded.event_id} of Back Door" in exported.stdout
    intact = homesec("evidence", "verify", str(out), env=env)
    assert intact.returncode == 0, intact.stderr
    assert "OK: every file matches the signed manifest; signed by this box's key" in intact.stdout
    tampered = homesec("evidence", "verify", str(rewrite_zip(out, _remove)), env=env)
    assert tampered.returncode == 1
    assert "file missing: annotated/02-snap2.jpg" in tampered.stdout
    unknown = homesec("evidence", "export", "999999", "-o", str(tmp_path / "no.zip"), env=env)
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == "homesec: no event with id 999999"
    not_a_zip = tmp_path / "notes.zip"
    not_a_zip.write_text("hello")
    broken = homesec("evidence", "verify", str(not_a_zip), env=env)
    assert broken.returncode == 1
    assert "not a readable zip archive" in broken.stderr and "Traceback" not in broken.stderr


def test_exporting_an_unknown_event_says_so(settings, seeded, tmp_path):
    from homesec.ops.evidence import EvidenceCommandError

    with pytest.raises(EvidenceCommandError, match="no event with id 999999"):
        evidence_export(settings, 999999, tmp_path / "x.zip", say=lambda _: None)
    assert not (tmp_path / "x.zip").exists()


def test_a_picture_deleted_since_is_named_in_the_manifest(settings, seeded, tmp_path):
    seeded.originals[1].unlink()
    printed: list[str] = []
    out = tmp_path / "partial.zip"
    assert evidence_export(settings, seeded.event_id, out, say=printed.append) == 0
    assert "1 of 2 pictures" in printed[0]
    assert "picture 2" in printed[1] and "no longer there" in printed[1]
    code, _ = verify(settings, out)
    assert code == 0  # what is there is intact; what is not is said in the signed manifest
