"""Writing and reading an event's evidence zip (issue 24); what goes in and how it is judged is
:mod:`homesec.policy.evidence`, the key :mod:`homesec.files.evidence_key`.

Both run in a worker thread (disk, hashing and drawing). Writing goes to a temporary file beside
the target and is renamed into place, so a failed export never leaves half an archive under the
archive's name. Reading never unpacks: each member is hashed as it streams out of the zip.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import BinaryIO

import msgspec
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from homesec.contract.errors import HomesecError
from homesec.files import evidence_key
from homesec.policy import evidence
from homesec.policy.evidence import (
    ArchiveEntry,
    EvidenceDetection,
    EvidenceRecord,
    Finding,
    Manifest,
    ManifestFile,
    SignatureCheck,
)
from homesec.settings import Settings, local_zone

BOX_COLOUR = (255, 64, 32)
JPEG_QUALITY = 90
CHUNK = 1 << 20
# manifest.json, manifest.sig and public_key.pem are small; a larger one is not ours.
MAX_SIGNING_MEMBER = 16 << 20


class EvidenceArchiveError(HomesecError):
    """The file given is no archive that can be read at all (not a zip, unreadable)."""


class ExportedArchive(msgspec.Struct, frozen=True, kw_only=True):
    manifest: Manifest
    fingerprint: str


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    findings: list[Finding]
    manifest: Manifest | None
    signer: str | None
    box: str | None  # this box's key's fingerprint; None where the box has none (off the box)


# --- export --------------------------------------------------------------------------------------
def _original(path: str, roots: Iterable[Path]) -> tuple[bytes | None, str | None]:
    """The picture's bytes, or None and why not. Only files inside the camera folders: the path
    comes from a row, and a row could point anywhere."""
    candidate = Path(path)
    if not candidate.is_absolute() or ".." in candidate.parts or "\x00" in path:
        return None, "stored with a path homesec does not read"
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None, "the file is no longer there (deleted by retention or the disk guard?)"
    if not any(real.is_relative_to(root.resolve()) for root in roots):
        return None, "the file is outside the camera folders"
    if not real.is_file():
        return None, "not a regular file"
    try:
        return real.read_bytes(), None
    except OSError as exc:
        return None, f"cannot be read: {exc.strerror or exc}"


def annotate(data: bytes, detections: list[EvidenceDetection], max_pixels: int) -> bytes:
    """The picture as JPEG with each detection's box outlined and labelled."""
    with Image.open(io.BytesIO(data)) as image:
        if image.width * image.height > max_pixels:
            raise ValueError(f"{image.width}x{image.height} pixels, more than MAX_IMAGE_PIXELS")
        canvas = image.convert("RGB")
    draw = ImageDraw.Draw(canvas)
    line = max(2, round(min(canvas.size) / 200))
    font = ImageFont.load_default(size=max(12, canvas.width // 40))
    for detection in detections:
        if detection.bbox is None:
            continue
        x, y, width, height = detection.bbox
        draw.rectangle(
            (x, y, x + max(width - 1, 0), y + max(height - 1, 0)), outline=BOX_COLOUR, width=line
        )
        label = evidence.box_label(detection)
        left, top, right, bottom = draw.textbbox((0, 0), label, font=font)
        text_y = max(0, y - (bottom - top) - 2 * line)
        draw.rectangle(
            (x, text_y, x + right - left + 2 * line, text_y + bottom + line), fill=BOX_COLOUR
        )
        draw.text((x + line, text_y), label, fill=(255, 255, 255), font=font)
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _add(archive: zipfile.ZipFile, folder: str, path: str, data: bytes, stamp) -> ManifestFile:
    info = zipfile.ZipInfo(f"{folder}/{path}", date_time=stamp)
    # Pictures are compressed already; text is worth deflating.
    info.compress_type = zipfile.ZIP_STORED if path.endswith(".jpg") else zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data)
    return ManifestFile(path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest())


def house_zone(settings: Settings) -> tuple[dt.tzinfo | None, str]:
    """The zone the archive's local times are in, and its name: ``HOMESEC_TIMEZONE``, else this
    machine's (the pages show times in the same one)."""
    zone = local_zone(settings)
    if settings.timezone:
        return zone, settings.timezone
    return None, f"this machine's zone ({dt.datetime.now().astimezone().tzname()})"


class ArchiveOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Where the pictures may be read from, the key's folder, the zone and the pixel cap."""

    roots: list[Path]
    data_dir: Path
    zone: dt.tzinfo | None
    zone_name: str
    max_pixels: int

    @classmethod
    def of(cls, settings: Settings) -> ArchiveOptions:
        zone, zone_name = house_zone(settings)
        return cls(
            roots=[settings.foscam_base_path],
            data_dir=settings.data_dir,
            zone=zone,
            zone_name=zone_name,
            max_pixels=settings.max_image_pixels,
        )


def export_event(
    settings: Settings, record: EvidenceRecord, out: Path, now: dt.datetime
) -> ExportedArchive:
    """Write ``record``'s archive to ``out`` (replaced if there): a temporary file beside it,
    renamed into place once complete, so a failed export never leaves half an archive under the
    archive's name. The file is the owner's alone (0600): it holds the house's pictures."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".evidence-", suffix=".zip", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as raw:
            exported = write_archive(record, raw, ArchiveOptions.of(settings), now)
        os.replace(temporary, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return exported


def export_to_anonymous_file(
    settings: Settings, record: EvidenceRecord, now: dt.datetime
) -> tuple[BinaryIO, int]:
    """``record``'s archive in a temporary file without a name (nothing to clean up when the
    download is cut short, nothing another user could open), rewound; and its size."""
    raw = tempfile.TemporaryFile(prefix="homesec-evidence-")  # noqa: SIM115 (the caller closes it)
    try:
        write_archive(record, raw, ArchiveOptions.of(settings), now)
        size = raw.tell()
        raw.seek(0)
    except BaseException:
        raw.close()
        raise
    return raw, size


def write_archive(
    record: EvidenceRecord, raw: BinaryIO, options: ArchiveOptions, now: dt.datetime
) -> ExportedArchive:
    """Write ``record``'s archive into ``raw``, signed with the box's key."""
    key = evidence_key.signing_key(options.data_dir)
    pem = evidence_key.public_pem(key)
    fingerprint = evidence_key.fingerprint(pem) or ""
    folder = evidence.folder_name(record.event_id)
    stamp = now.astimezone(options.zone).timetuple()[:6]
    with zipfile.ZipFile(raw, "w") as archive:
        files: list[ManifestFile] = []
        frames = []
        for plan in evidence.plan_frames(record.detections):
            data, missing = _original(plan.source_path, options.roots)
            annotated = False
            original_sha256 = None
            if data is not None:
                files.append(_add(archive, folder, plan.original, data, stamp))
                original_sha256 = files[-1].sha256
                try:
                    drawn = annotate(data, plan.detections, options.max_pixels)
                except (
                    OSError,
                    ValueError,
                    UnidentifiedImageError,
                    Image.DecompressionBombError,
                ) as exc:
                    missing = f"no annotated copy: the picture cannot be decoded ({exc})"
                else:
                    files.append(_add(archive, folder, plan.annotated, drawn, stamp))
                    annotated = True
            frames.append(
                evidence.frame_facts(
                    plan,
                    record.uploads.get(plan.source_path),
                    exported_sha256=original_sha256,
                    annotated=annotated,
                    missing=missing,
                    zone=options.zone,
                )
            )
        readme = evidence.readme(record, now, options.zone_name, fingerprint).encode()
        files.append(_add(archive, folder, evidence.README, readme, stamp))
        manifest = evidence.build_manifest(
            record,
            frames,
            files,
            exported_at=now,
            zone=options.zone,
            zone_name=options.zone_name,
        )
        signed = evidence.encode_manifest(manifest)
        _add(archive, folder, evidence.MANIFEST, signed, stamp)
        _add(archive, folder, evidence.SIGNATURE, evidence_key.sign(key, signed), stamp)
        _add(archive, folder, evidence.PUBLIC_KEY, pem, stamp)
    return ExportedArchive(manifest=manifest, fingerprint=fingerprint)


# --- verification --------------------------------------------------------------------------------
def _hash_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> ArchiveEntry:
    digest = hashlib.sha256()
    size = 0
    with archive.open(info) as member:
        while chunk := member.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return ArchiveEntry(path="", size=size, sha256=digest.hexdigest())


def _root(names: list[str]) -> str:
    """The archive's folder (``homesec-event-12/``): where its manifest lies, so that a file
    slipped in beside the folder is one file added, not every file moved. "" when the
    manifest lies at the top (an archive zipped again by hand) or is gone."""
    manifests = [
        name.removesuffix(evidence.MANIFEST)
        for name in names
        if name == evidence.MANIFEST or name.endswith(f"/{evidence.MANIFEST}")
    ]
    return min(manifests, key=len) if manifests else ""


def verify_archive(path: Path, data_dir: Path) -> Verification:
    """Judge the archive at ``path`` against its signed manifest; on the box (its key exists
    under ``data_dir``) also whether this box signed it."""
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise EvidenceArchiveError(f"{path}: not a readable zip archive ({exc})") from None
    findings: list[Finding] = []
    entries: dict[str, ArchiveEntry] = {}
    signing: dict[str, bytes] = {}
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        root = _root([info.filename for info in infos])
        try:
            for info in infos:
                name = info.filename.removeprefix(root)
                if name in entries:
                    findings.append(
                        Finding(
                            kind=evidence.FILE_ADDED,
                            path=name,
                            detail="a second member of this name",
                        )
                    )
                    continue
                entry = _hash_member(archive, info)
                entries[name] = ArchiveEntry(path=name, size=entry.size, sha256=entry.sha256)
                if name in evidence.SIGNING_MEMBERS and info.file_size <= MAX_SIGNING_MEMBER:
                    signing[name] = archive.read(info)
        except (OSError, zipfile.BadZipFile, EOFError) as exc:
            raise EvidenceArchiveError(f"{path}: the zip is damaged ({exc})") from None
    manifest_bytes = signing.get(evidence.MANIFEST)
    pem, signature = signing.get(evidence.PUBLIC_KEY), signing.get(evidence.SIGNATURE)
    box_pem = evidence_key.box_public_key(data_dir)
    check = SignatureCheck(
        present=pem is not None and signature is not None,
        valid=(
            pem is not None
            and signature is not None
            and manifest_bytes is not None
            and evidence_key.signature_valid(pem, signature, manifest_bytes)
        ),
        signer=evidence_key.fingerprint(pem) if pem is not None else None,
        box=evidence_key.fingerprint(box_pem) if box_pem is not None else None,
    )
    findings = evidence.check_archive(manifest_bytes, entries, check) + findings
    return Verification(
        findings=findings,
        manifest=evidence.decode_manifest(manifest_bytes) if manifest_bytes else None,
        signer=check.signer,
        box=check.box,
    )
