"""`homesec evidence export EVENT_ID` and `homesec evidence verify ARCHIVE` (issue 24).

``export`` reads PostgreSQL like the camera commands do (the configured ``DATABASE_URL``, else
the running homesec's, else the embedded server under the data dir) and writes the event's signed
archive, the same one ``GET /api/events/{id}/evidence`` sends. ``verify`` needs no database: it
recomputes every hash against the signed manifest, checks the signature and, on the box (its key
is under the data dir), that this box signed it; it exits 1 on any problem.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from homesec.contract.errors import HomesecError
from homesec.files.evidence_archive import export_event, verify_archive
from homesec.policy.evidence import archive_file_name
from homesec.settings import Settings

Say = Callable[[str], None]


class EvidenceCommandError(HomesecError):
    """An export that cannot be done as asked (the message says why)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="evidence_command", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write an event's signed evidence archive (zip) for the police or insurer"
    )
    export.add_argument("event_id", type=int, help="the event's id (its page is /events/ID)")
    export.add_argument(
        "-o",
        "--output",
        type=Path,
        help="where to write it (default: homesec-event-ID.zip in this folder)",
    )
    verify = actions.add_parser(
        "verify", help="check an evidence archive: every file, the signature, the signer"
    )
    verify.add_argument("archive", type=Path)


def run(settings: Settings, args: argparse.Namespace, say: Say = print) -> int:
    if args.evidence_command == "export":
        return evidence_export(settings, args.event_id, args.output, say=say)
    return evidence_verify(settings, args.archive, say=say)


def evidence_export(
    settings: Settings, event_id: int, output: Path | None, say: Say = print
) -> int:
    from homesec.ops.cameras import database_url_for_command, with_sessions
    from homesec.store.evidence import read_evidence

    out = output if output is not None else Path.cwd() / archive_file_name(event_id)
    if out.is_dir():
        out = out / archive_file_name(event_id)
    with database_url_for_command(settings) as url:
        record = asyncio.run(with_sessions(url, lambda s: read_evidence(s, event_id)))
    if record is None:
        raise EvidenceCommandError(f"no event with id {event_id}")
    exported = export_event(settings, record, out, dt.datetime.now(dt.UTC))
    manifest = exported.manifest
    say(
        f"Wrote {out}: event #{event_id} of {manifest.camera.name}, "
        f"{sum(1 for f in manifest.frames if f.original)} of {len(manifest.frames)} pictures, "
        f"{len(manifest.files)} files signed by this box ({exported.fingerprint})"
    )
    for frame in manifest.frames:
        if frame.missing:
            say(f"  picture {frame.number} ({frame.source_path}): {frame.missing}")
        if frame.matches_upload is False:
            say(
                f"  picture {frame.number} ({frame.source_path}): its bytes differ from what the "
                "camera uploaded (the file was replaced since); the manifest says so"
            )
    return 0


def evidence_verify(settings: Settings, archive: Path, say: Say = print) -> int:
    result = verify_archive(archive, settings.data_dir)
    manifest = result.manifest
    if manifest is not None:
        say(
            f"{archive}: event #{manifest.event_id} of {manifest.camera.name}, exported "
            f"{manifest.exported_at.utc}, {len(manifest.files)} files in the manifest"
        )
    for finding in result.findings:
        say(finding.line())
    if result.findings:
        say(f"NOT INTACT: {len(result.findings)} problem(s)")
        return 1
    signer = (
        "this box's key"
        if result.box is not None
        else "a key that cannot be compared here (not on the box)"
    )
    say(f"OK: every file matches the signed manifest; signed by {signer} ({result.signer})")
    return 0
