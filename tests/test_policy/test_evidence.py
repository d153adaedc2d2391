"""The evidence archive's pure parts (issue 24): names inside the zip, the times in two zones,
and the judgement of a received archive against its signed manifest."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import msgspec
import pytest

from homesec.policy import evidence
from homesec.policy.evidence import (
    ArchiveEntry,
    EvidenceCamera,
    EvidenceDetection,
    EvidenceRecord,
    ManifestFile,
    SignatureCheck,
)

T0 = dt.datetime(2026, 3, 29, 0, 59, 59, tzinfo=dt.UTC)  # 01:59:59 CET, a second before CEST
BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
GOOD = SignatureCheck(present=True, valid=True, signer="SHA256:box", box="SHA256:box")
UNSIGNED = msgspec.structs.replace(GOOD, present=False)
ALTERED = msgspec.structs.replace(GOOD, valid=False)
OTHER = msgspec.structs.replace(GOOD, signer="SHA256:other")
OFF_THE_BOX = msgspec.structs.replace(OTHER, box=None)
Y = ManifestFile("y", 1, "ee" * 32)


def detection(id_: int, path: str, seconds: int) -> EvidenceDetection:
    return EvidenceDetection(
        id=id_, file_path=path, object_type="person", confidence=0.9, bbox=(1, 2, 3, 4),
        zones=None, captured_at=T0 + dt.timedelta(seconds=seconds),
        detected_at=T0 + dt.timedelta(seconds=seconds + 3),
    )  # fmt: skip


def test_names_are_safe_numbered_in_the_order_taken_and_never_collide():
    plans = evidence.plan_frames(
        [
            detection(1, "/cams/b/snapshot.jpg", 20),
            detection(2, "/cams/a/snapshot.jpg", 10),
            detection(3, "/cams/a/snapshot.jpg", 10),
            detection(4, "/cams/a/../../etc/ä passwd", 30),
        ]
    )
    assert [(p.original, p.annotated) for p in plans] == [
        ("originals/01-snapshot.jpg", "annotated/01-snapshot.jpg"),
        ("originals/02-snapshot.jpg", "annotated/02-snapshot.jpg"),
        ("originals/03-__passwd", "annotated/03-__passwd.jpg"),
    ]
    assert [len(p.detections) for p in plans] == [2, 1, 1]
    assert evidence.safe_name("/x/.hidden") == "hidden"
    assert evidence.safe_name("/x/") == "image"


def test_a_moment_is_told_in_utc_and_in_the_houses_zone_across_a_clock_change():
    before = evidence.moment(T0, BERLIN)
    after = evidence.moment(T0 + dt.timedelta(seconds=1), BERLIN)
    assert before == evidence.Moment("2026-03-29T00:59:59Z", "2026-03-29T01:59:59+01:00")
    assert after == evidence.Moment("2026-03-29T01:00:00Z", "2026-03-29T03:00:00+02:00")
    assert evidence.moment(None, BERLIN) is None


def manifest_bytes(*files: ManifestFile) -> bytes:
    record = EvidenceRecord(
        event_id=7, batch_id="b", started_at=T0, ended_at=None,
        verdict=evidence.Verdict(
            risk_score=40, risk_level="medium", summary=None, reasoning=None,
            scored_by_engine="rules", scored_by_model=None, prompt_version="r1",
            is_fast_path=False, supersedes_event_id=None, reviewed=False, notes=None,
        ),
        held_at=None, hold_note=None,
        camera=EvidenceCamera(id="porch", name="Porch", role=None), detections=[], uploads={},
    )  # fmt: skip
    manifest = evidence.build_manifest(
        record, [], list(files), exported_at=T0, zone=BERLIN, zone_name="Europe/Berlin"
    )
    return evidence.encode_manifest(manifest)


A = ManifestFile("originals/01-a.jpg", 3, "aa" * 32)
B = ManifestFile("README.txt", 5, "bb" * 32)


def entries(*files: ManifestFile) -> dict[str, ArchiveEntry]:
    present = {f.path: ArchiveEntry(f.path, f.size, f.sha256) for f in files}
    for name in evidence.SIGNING_MEMBERS:
        present[name] = ArchiveEntry(name, 1, "00" * 32)
    return present


def kinds(findings) -> list[tuple[str, str | None]]:
    return [(f.kind, f.path) for f in findings]


def test_an_intact_archive_has_no_findings_and_the_manifest_reads_back():
    data = manifest_bytes(A, B)
    assert evidence.check_archive(data, entries(A, B), GOOD) == []
    manifest = evidence.decode_manifest(data)
    assert manifest is not None and [f.path for f in manifest.files] == [B.path, A.path]


@pytest.mark.parametrize(
    ("present", "signature", "expected"),
    [
        ((ManifestFile(A.path, 3, "cc" * 32), B), GOOD, [("file changed", A.path)]),
        ((B,), GOOD, [("file missing", A.path)]),
        ((A, B, ManifestFile("x.txt", 1, "dd" * 32)), GOOD, [("file added", "x.txt")]),
        ((A, B), ALTERED, [("manifest altered", "manifest.json")]),
        ((A, B), UNSIGNED, [("manifest altered", "manifest.sig")]),
        ((A, B), OTHER, [("signed by another key than this box's", "public_key.pem")]),
        ((A, B), OFF_THE_BOX, []),
        ((B, Y), GOOD, [("file missing", A.path), ("file added", "y")]),
    ],
    ids=[
        "changed", "missing", "added", "bad signature", "no signature", "another key",
        "off the box", "two at once",
    ],
)  # fmt: skip
def test_each_difference_is_one_finding(present, signature, expected):
    findings = evidence.check_archive(manifest_bytes(A, B), entries(*present), signature)
    assert kinds(findings) == expected


def test_a_manifest_that_is_not_one_or_is_gone_is_said_so():
    assert kinds(evidence.check_archive(None, {}, GOOD)) == [("manifest missing", "manifest.json")]
    assert kinds(evidence.check_archive(b"{}", entries(), GOOD)) == [
        ("manifest altered", "manifest.json")
    ]
