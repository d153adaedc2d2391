"""An event's evidence archive (issue 24): what goes in, under which names, and how a received
archive is judged. Pure; the key and the zip are :mod:`homesec.files.evidence_key` and
:mod:`homesec.files.evidence_archive`, the rows :mod:`homesec.store.evidence`.

The archive is a zip (a phone opens one without an app, and each member can be read without
unpacking the rest; a tar needs an app on a phone). Inside one folder, ``homesec-event-<id>/``:

- ``originals/NN-<name>``: each uploaded picture of the event, byte for byte as it lies in the
  camera folder; its SHA-256 is also compared with the one the watcher recorded when the upload
  arrived (``sha256_at_upload``), so a file replaced since then is named as such;
- ``annotated/NN-<name>.jpg``: the same picture with every box found on it drawn and labelled;
- ``manifest.json``: the event's facts (verdict, reasoning, who scored it, camera name and role,
  each picture's taken / received / processed times in UTC and in the house's zone, the hold)
  and every other member's path, size and SHA-256;
- ``manifest.sig``: the Ed25519 signature of ``manifest.json``'s exact bytes (64 raw bytes, so
  ``openssl pkeyutl -verify -rawin`` checks it too), made with the key that stays on the box;
- ``public_key.pem``: the public half, so anyone can check the signature; whether it is *this
  box's* key can only be told on the box (or by comparing fingerprints);
- ``README.txt``: what the archive is and how to check it (listed in the manifest too).

Only events are exported: an incident across cameras (docs/incidents.md) is exported visit by
visit, each its own archive.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping

import msgspec

FORMAT = "homesec-evidence/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
README = "README.txt"
# Members that the manifest does not list: the manifest itself and what vouches for it.
SIGNING_MEMBERS = frozenset({MANIFEST, SIGNATURE, PUBLIC_KEY})
MAX_NAME = 80


# --- what the database says of the event (read by store/evidence.py) -----------------------------
class EvidenceCamera(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    name: str
    role: str | None


class EvidenceDetection(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    file_path: str
    object_type: str | None
    confidence: float | None
    bbox: tuple[int, int, int, int] | None  # x, y, width, height
    zones: list[str] | None
    captured_at: dt.datetime | None  # taken (EXIF, else the upload's time); None: older rows
    detected_at: dt.datetime  # processed


class EvidenceUpload(msgspec.Struct, frozen=True, kw_only=True):
    """The ledger row of a picture's path: when it arrived and what it hashed to then."""

    received_at: dt.datetime
    sha256: str | None


class Verdict(msgspec.Struct, frozen=True, kw_only=True):
    risk_score: int | None
    risk_level: str | None
    summary: str | None
    reasoning: str | None
    scored_by_engine: str | None
    scored_by_model: str | None
    prompt_version: str | None
    is_fast_path: bool
    supersedes_event_id: int | None
    reviewed: bool
    notes: str | None


class EvidenceRecord(msgspec.Struct, frozen=True, kw_only=True):
    event_id: int
    batch_id: str
    started_at: dt.datetime
    ended_at: dt.datetime | None
    verdict: Verdict  # as the manifest says it
    held_at: dt.datetime | None
    hold_note: str | None
    camera: EvidenceCamera
    detections: list[EvidenceDetection]  # those that still exist, in the order taken
    uploads: dict[str, EvidenceUpload]  # by file path


# --- what the archive holds ----------------------------------------------------------------------
class Moment(msgspec.Struct, frozen=True):
    utc: str  # ISO 8601, Z
    local: str  # ISO 8601 with the house's offset


def moment(at: dt.datetime | None, zone: dt.tzinfo | None) -> Moment | None:
    """``at`` in UTC and in ``zone`` (None: this machine's zone)."""
    if at is None:
        return None
    utc = at.astimezone(dt.UTC)
    return Moment(utc=utc.isoformat().replace("+00:00", "Z"), local=at.astimezone(zone).isoformat())


class BoxFacts(msgspec.Struct, frozen=True, kw_only=True):
    detection_id: int
    object_type: str | None
    confidence: float | None
    bbox: tuple[int, int, int, int] | None
    zones: list[str] | None


class FramePlan(msgspec.Struct, frozen=True, kw_only=True):
    """One picture of the event and the archive names it will have."""

    number: int  # 1-based, in the order taken
    source_path: str
    original: str  # archive path of the original
    annotated: str  # archive path of the annotated copy
    detections: list[EvidenceDetection]


class FrameFacts(msgspec.Struct, frozen=True, kw_only=True):
    number: int
    source_path: str  # where it lay on the box
    original: str | None  # archive path; None when the file could not be exported
    annotated: str | None
    missing: str | None  # why it is not in the archive
    taken: Moment | None
    received: Moment | None
    processed: Moment | None
    sha256_at_upload: str | None  # the watcher's hash when the upload arrived
    matches_upload: bool | None  # the exported bytes hash to it; None: nothing to compare
    boxes: list[BoxFacts]


class ManifestFile(msgspec.Struct, frozen=True):
    path: str  # inside the archive's folder
    size: int
    sha256: str


class Hold(msgspec.Struct, frozen=True, kw_only=True):
    held_at: Moment | None
    note: str | None


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    format: str
    event_id: int
    batch_id: str
    exported_at: Moment
    zone: str  # the house's zone the local times are in
    camera: EvidenceCamera
    verdict: Verdict
    started: Moment
    ended: Moment | None
    hold: Hold
    frames: list[FrameFacts]
    files: list[ManifestFile]
    scope: str = "one camera's event; incidents across cameras are not exported"


def folder_name(event_id: int) -> str:
    return f"homesec-event-{event_id}"


def archive_file_name(event_id: int) -> str:
    return f"{folder_name(event_id)}.zip"


def safe_name(path: str) -> str:
    """A file's base name that any unzip accepts: letters, digits, ``.``, ``_`` and ``-``,
    at most ``MAX_NAME`` characters, never empty or hidden."""
    base = re.split(r"[\\/]", path)[-1]
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", base).lstrip(".")[-MAX_NAME:]
    return cleaned or "image"


def plan_frames(detections: Iterable[EvidenceDetection]) -> list[FramePlan]:
    """The event's pictures in the order taken (a picture's detections share its path), each
    with numbered names so two cameras' ``snapshot.jpg`` never collide."""
    by_path: dict[str, list[EvidenceDetection]] = {}
    for detection in detections:
        by_path.setdefault(detection.file_path, []).append(detection)
    ordered = sorted(
        by_path.items(),
        key=lambda item: min((d.captured_at or d.detected_at) for d in item[1]),
    )
    width = max(2, len(str(len(ordered))))
    plans = []
    for number, (path, found) in enumerate(ordered, start=1):
        name = safe_name(path)
        stem = name.rsplit(".", 1)[0] if "." in name else name
        prefix = f"{number:0{width}d}"
        plans.append(
            FramePlan(
                number=number,
                source_path=path,
                original=f"originals/{prefix}-{name}",
                annotated=f"annotated/{prefix}-{stem}.jpg",
                detections=found,
            )
        )
    return plans


def box_label(detection: EvidenceDetection) -> str:
    return f"{detection.object_type or 'object'} {round((detection.confidence or 0) * 100)}%"


def frame_facts(
    plan: FramePlan,
    upload: EvidenceUpload | None,
    *,
    exported_sha256: str | None,
    annotated: bool,
    missing: str | None,
    zone: dt.tzinfo | None,
) -> FrameFacts:
    """What the manifest says of one picture, once the shell tried to read it
    (``exported_sha256`` None: it could not; ``missing`` says why)."""
    first = plan.detections[0]
    at_upload = upload.sha256 if upload is not None else None
    return FrameFacts(
        number=plan.number,
        source_path=plan.source_path,
        original=plan.original if exported_sha256 is not None else None,
        annotated=plan.annotated if annotated else None,
        missing=missing,
        taken=moment(first.captured_at, zone),
        received=moment(upload.received_at if upload else None, zone),
        processed=moment(min(d.detected_at for d in plan.detections), zone),
        sha256_at_upload=at_upload,
        matches_upload=(
            None if exported_sha256 is None or at_upload is None else exported_sha256 == at_upload
        ),
        boxes=[
            BoxFacts(
                detection_id=d.id,
                object_type=d.object_type,
                confidence=d.confidence,
                bbox=d.bbox,
                zones=d.zones,
            )
            for d in plan.detections
        ],
    )


def build_manifest(
    record: EvidenceRecord,
    frames: list[FrameFacts],
    files: list[ManifestFile],
    *,
    exported_at: dt.datetime,
    zone: dt.tzinfo | None,
    zone_name: str,
) -> Manifest:
    exported = moment(exported_at, zone)
    started = moment(record.started_at, zone)
    assert exported is not None and started is not None
    return Manifest(
        format=FORMAT,
        event_id=record.event_id,
        batch_id=record.batch_id,
        exported_at=exported,
        zone=zone_name,
        camera=record.camera,
        verdict=record.verdict,
        started=started,
        ended=moment(record.ended_at, zone),
        hold=Hold(held_at=moment(record.held_at, zone), note=record.hold_note),
        frames=frames,
        files=sorted(files, key=lambda f: f.path),
    )


def encode_manifest(manifest: Manifest) -> bytes:
    """The manifest's bytes as signed: indented JSON (a person reads it), keys in a fixed
    order, ending in a newline."""
    return msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"


def decode_manifest(data: bytes) -> Manifest | None:
    try:
        manifest = msgspec.json.decode(data, type=Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    return manifest if manifest.format == FORMAT else None


def readme(
    record: EvidenceRecord, exported_at: dt.datetime, zone_name: str, fingerprint: str
) -> str:
    """The archive's README.txt: what it holds and how to check it by hand."""
    camera = record.camera
    exported = moment(exported_at, dt.UTC)
    return "\n".join(
        [
            f"homesec evidence: event #{record.event_id} of camera {camera.name!r}"
            f" ({camera.role or 'no role'}), exported {exported.utc if exported else ''}.",
            "",
            "originals/      the pictures exactly as the camera uploaded them",
            "annotated/      the same pictures with what homesec found on them drawn in",
            "manifest.json   the verdict, its reasoning, who scored it, the times (UTC and "
            f"{zone_name}), and the SHA-256 of every other file",
            "manifest.sig    the Ed25519 signature of manifest.json by the homesec box's own key",
            f"public_key.pem  the box's public key, fingerprint {fingerprint}",
            "",
            "To check it: `homesec evidence verify <this zip>` (on the box it also confirms that",
            "the key is the box's), or by hand, in this folder:",
            "  openssl pkeyutl -verify -pubin -inkey public_key.pem -rawin -in manifest.json"
            " -sigfile manifest.sig",
            "  sha256sum originals/* annotated/* README.txt   (compare with manifest.json)",
            "",
        ]
    )


# --- judging a received archive ------------------------------------------------------------------
FILE_CHANGED = "file changed"
FILE_MISSING = "file missing"
FILE_ADDED = "file added"
MANIFEST_ALTERED = "manifest altered"
MANIFEST_MISSING = "manifest missing"
OTHER_KEY = "signed by another key than this box's"


class Finding(msgspec.Struct, frozen=True, kw_only=True):
    kind: str
    path: str | None = None
    detail: str = ""

    def line(self) -> str:
        where = f" {self.path}" if self.path else ""
        return f"{self.kind}:{where}{f' ({self.detail})' if self.detail else ''}"


class ArchiveEntry(msgspec.Struct, frozen=True):
    path: str  # inside the archive's folder
    size: int
    sha256: str


class SignatureCheck(msgspec.Struct, frozen=True, kw_only=True):
    present: bool  # manifest.sig and public_key.pem are both there and readable
    valid: bool  # the signature matches manifest.json under public_key.pem
    signer: str | None  # the fingerprint of public_key.pem
    box: str | None  # this box's fingerprint; None off the box


def check_archive(
    manifest_bytes: bytes | None,
    entries: Mapping[str, ArchiveEntry],
    signature: SignatureCheck,
) -> list[Finding]:
    """Everything wrong with an archive, each said once; [] when it is as exported."""
    if manifest_bytes is None:
        return [Finding(kind=MANIFEST_MISSING, path=MANIFEST, detail="nothing can be checked")]
    findings: list[Finding] = []
    if not signature.present:
        findings.append(
            Finding(
                kind=MANIFEST_ALTERED,
                path=SIGNATURE,
                detail="the signature or the public key is missing",
            )
        )
    elif not signature.valid:
        findings.append(
            Finding(
                kind=MANIFEST_ALTERED,
                path=MANIFEST,
                detail="its signature does not match: it was edited after it was signed",
            )
        )
    elif signature.box is not None and signature.signer != signature.box:
        findings.append(
            Finding(
                kind=OTHER_KEY,
                path=PUBLIC_KEY,
                detail=f"signer {signature.signer}, this box {signature.box}",
            )
        )
    manifest = decode_manifest(manifest_bytes)
    if manifest is None:
        findings.append(
            Finding(kind=MANIFEST_ALTERED, path=MANIFEST, detail=f"not a {FORMAT} manifest")
        )
        return findings
    listed = {file.path: file for file in manifest.files}
    for path, file in sorted(listed.items()):
        found = entries.get(path)
        if found is None:
            findings.append(Finding(kind=FILE_MISSING, path=path))
        elif (found.size, found.sha256) != (file.size, file.sha256):
            findings.append(
                Finding(
                    kind=FILE_CHANGED,
                    path=path,
                    detail=f"SHA-256 {found.sha256[:16]}…, signed {file.sha256[:16]}…"
                    + (
                        f"; {found.size} bytes, signed {file.size}"
                        if found.size != file.size
                        else ""
                    ),
                )
            )
    for path in sorted(set(entries) - set(listed) - SIGNING_MEMBERS):
        findings.append(Finding(kind=FILE_ADDED, path=path))
    return findings
