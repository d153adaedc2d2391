"""When is an upload finished? The pure core of the CameraWatcher's completeness check.

A camera writes its snapshot over FTP, often in chunks, so a file that exists is not yet a file
that is done. An upload counts as complete when

- the writer closed it (an inotify close-write event), or
- its size and mtime stayed the same across observations at least ``settle_seconds`` apart
  (polling, for NFS/SMB where no events come).

A JPEG or PNG whose tail lacks its end marker is probably still being written by a slow writer
whose pauses outlast ``settle_seconds``; it must stay unchanged for the longer
``incomplete_settle_seconds`` instead. It is still released then (a writer that died leaves a
truncated file behind), so validation can record it as truncated instead of it waiting forever.

Times are float epoch seconds (``time.time()``), the same clock for every call. Nothing here
touches the filesystem: the shell stats the files and reads their tails (:data:`TAIL_BYTES`),
feeds what it saw to :class:`UploadTracker`, and asks it which paths are ready.

Stability is judged only from observations, never from the clock alone: a path is never
reported because time passed, only because the shell *saw* it unchanged long enough (or closed).
So a shell polling with a timer stats :meth:`UploadTracker.pending` paths before asking
:meth:`UploadTracker.ready`.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

from homesec.contract.enums import UploadStatus
from homesec.policy.validation import MIME_BY_EXTENSION, has_allowed_extension
from homesec.settings import Settings

# How many bytes from a file's end the shell should read for :func:`tail_looks_complete`: room
# for a JPEG end marker followed by the NUL padding some encoders write after it.
TAIL_BYTES = 64

JPEG_END = b"\xff\xd9"
# A PNG ends with its IEND chunk: type and the CRC of an empty chunk, always these 8 bytes.
PNG_END = b"IEND\xaeB`\x82"

# Default patience for a file whose tail says it is unfinished; several times the usual settle
# time, since such a writer is known to be slow.
DEFAULT_INCOMPLETE_SETTLE_SECONDS = 30.0


def tail_looks_complete(tail: bytes) -> bool:
    """Do these last bytes of a file end a JPEG (``FFD9``) or a PNG (``IEND``)?

    NUL padding after the marker is ignored: some writers pre-allocate or pad the file. A
    ``False`` is a hint, not a verdict: a complete JPEG may carry trailing vendor bytes.
    """
    content = tail.rstrip(b"\x00")
    return content.endswith(JPEG_END) or content.endswith(PNG_END)


class PendingUpload(msgspec.Struct, frozen=True, kw_only=True):
    """What the tracker knows of one path. ``size``/``mtime`` are None until first observed."""

    size: int | None = None
    mtime: float | None = None
    changed_at: float  # when the current (size, mtime) was first seen
    observed_at: float  # the latest observation showing that (size, mtime)
    closed_at: float | None = None  # a close-write event after the last change
    tail_complete: bool | None = None  # None: the shell did not look
    reported: bool = False  # already returned by ready(); not again until it changes


def is_complete(
    upload: PendingUpload, settle_seconds: float, incomplete_settle_seconds: float
) -> bool:
    """The decision itself: closed after its last change, or seen unchanged long enough."""
    if upload.closed_at is not None:
        return True
    if upload.size is None:
        return False
    needed = incomplete_settle_seconds if upload.tail_complete is False else settle_seconds
    return upload.observed_at - upload.changed_at >= needed


def _arrived_at(upload: PendingUpload) -> float:
    return upload.mtime if upload.mtime is not None else upload.changed_at


class UploadTracker:
    """Tracks the uploads of one camera folder until each is complete, then reports it once.

    A reported path stays remembered, so a polling rescan that sees it unchanged does not report
    it again; if it changes later (a camera overwriting ``snapshot.jpg``), it is a new upload and
    will be reported again once complete. Call :meth:`forget` when a file is gone.
    """

    def __init__(
        self,
        settle_seconds: float,
        incomplete_settle_seconds: float = DEFAULT_INCOMPLETE_SETTLE_SECONDS,
    ) -> None:
        if settle_seconds < 0:
            raise ValueError("settle_seconds must not be negative")
        self.settle_seconds = settle_seconds
        self.incomplete_settle_seconds = max(settle_seconds, incomplete_settle_seconds)
        self._uploads: dict[str, PendingUpload] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> UploadTracker:
        return cls(settings.upload_settle_seconds)

    def observe(
        self,
        path: str,
        size: int,
        mtime: float,
        now: float,
        *,
        tail_complete: bool | None = None,
    ) -> None:
        """Record a stat of ``path``; ``tail_complete`` from :func:`tail_looks_complete`."""
        known = self._uploads.get(path)
        if known is not None and known.size is None:
            # The first stat after a close-write with no stat before it describes the
            # closed content: keep the close.
            known = msgspec.structs.replace(known, size=size, mtime=mtime, changed_at=now)
        if known is not None and (known.size, known.mtime) == (size, mtime):
            tail = known.tail_complete if tail_complete is None else tail_complete
            self._uploads[path] = msgspec.structs.replace(
                known, observed_at=max(known.observed_at, now), tail_complete=tail
            )
            return
        # New, or written to since: the settle clock starts again and any earlier close
        # no longer vouches for the content.
        self._uploads[path] = PendingUpload(
            size=size, mtime=mtime, changed_at=now, observed_at=now, tail_complete=tail_complete
        )

    def closed(self, path: str, now: float) -> None:
        """Record a close-write event: the writer is done with the file.

        A close-write only follows a write, so it re-arms a path already reported: the file was
        written again.
        """
        known = self._uploads.get(path)
        if known is None:
            self._uploads[path] = PendingUpload(changed_at=now, observed_at=now, closed_at=now)
        else:
            self._uploads[path] = msgspec.structs.replace(known, closed_at=now, reported=False)

    def ready(self) -> list[str]:
        """Paths complete and not reported before, oldest upload first (by mtime; a path known
        only from a close-write, by that close), so of two files with one content the first to
        arrive is taken in first and is the original.

        Each is reported once: the shell validates and records it, and a later unchanged
        observation does not bring it back.
        """
        done = [
            path
            for path, upload in self._uploads.items()
            if not upload.reported
            and is_complete(upload, self.settle_seconds, self.incomplete_settle_seconds)
        ]
        done.sort(key=lambda path: _arrived_at(self._uploads[path]))
        for path in done:
            self._uploads[path] = msgspec.structs.replace(self._uploads[path], reported=True)
        return done

    def pending(self) -> list[str]:
        """Paths not yet reported: the ones a polling shell should stat again."""
        return [path for path, upload in self._uploads.items() if not upload.reported]

    def forget(self, path: str) -> None:
        """Drop ``path`` (deleted or moved away); unknown paths are ignored."""
        self._uploads.pop(path, None)

    def forget_all_but(self, present: Iterable[str]) -> None:
        """After a full folder scan: drop every path that is no longer on disk."""
        keep = set(present)
        for path in [path for path in self._uploads if path not in keep]:
            del self._uploads[path]

    def __contains__(self, path: object) -> bool:
        return path in self._uploads

    def __len__(self) -> int:
        return len(self._uploads)


class IngestedFiles:
    """The content each path had (size, mtime) when the watcher last took it in, for the most
    recent ``capacity`` paths.

    One upload is reported twice: the FTP server hands the finished file over, and the folder's
    own watch sees the same close-write (in either order). The second report finds the same
    content here and is dropped, so a file is validated, decoded and hashed once. A file
    written again has another size or mtime and goes through.
    """

    def __init__(self, capacity: int = 4096) -> None:
        self.capacity = capacity
        self._taken: dict[str, tuple[int, float]] = {}

    def took(self, path: str, size: int, mtime: float) -> None:
        self._taken.pop(path, None)  # re-inserted last: the oldest go first when full
        self._taken[path] = (size, mtime)
        while len(self._taken) > self.capacity:
            del self._taken[next(iter(self._taken))]

    def already_taken(self, path: str, size: int, mtime: float) -> bool:
        """True when ``path`` was taken in with exactly this content; a different content
        forgets the old one (a rewrite is a new upload)."""
        known = self._taken.get(path)
        if known is None:
            return False
        if known == (size, mtime):
            return True
        del self._taken[path]
        return False

    def forget(self, path: str) -> None:
        self._taken.pop(path, None)

    def __len__(self) -> int:
        return len(self._taken)


# --- which names the watcher takes ----------------------------------------------------------------

# The temporary names FTP servers and clients write before renaming into place.
IGNORED_SUFFIXES = (".tmp", ".part", ".filepart")


def is_ignored_name(relative: str) -> bool:
    """Does the watcher pass over the file at ``relative`` (its path below the camera's folder,
    ``/``-separated) without a ledger row? Hidden (a dot-named file or folder on the way) or a
    temporary name."""
    if any(part.startswith(".") for part in relative.split("/")):
        return True
    return relative.lower().endswith(IGNORED_SUFFIXES)


def temporary_suffix(name: str) -> str | None:
    lowered = name.lower()
    return next((suffix for suffix in IGNORED_SUFFIXES if lowered.endswith(suffix)), None)


def upload_name_refusal(relative: str, *, temporary_allowed: bool = True) -> str | None:
    """Why a file stored at ``relative`` (below the camera's folder, ``/``-separated) would not
    become an upload the pipeline takes, in words; None when it would.

    The watcher's own rules (:func:`is_ignored_name`, the validation's extensions): nothing
    hidden, and an image name (``.jpg``, ``.jpeg``, ``.png``). A temporary name is the step
    before a rename into place, so it is taken only for an image's name with the temporary
    suffix (``snap.jpg.part``), and only with ``temporary_allowed``.
    """
    parts = [part for part in relative.split("/") if part]
    if any(part.startswith(".") for part in parts):
        return "names starting with a dot are hidden and never watched"
    if not parts:
        return "no file name"
    name = parts[-1]
    suffix = temporary_suffix(name)
    if suffix is not None:
        if not temporary_allowed:
            return f"a temporary name ({suffix}) is never watched: rename into an image's name"
        name = name[: -len(suffix)]
    if not has_allowed_extension(name):
        kinds = ", ".join(MIME_BY_EXTENSION)
        return f"only images are taken ({kinds}), not {name!r}"
    if not is_storable(relative):
        return "the name is not valid UTF-8"
    return None


def folder_name_refusal(relative: str) -> str | None:
    """Why the watcher would never look into a folder at ``relative``; None when it would."""
    if any(part.startswith(".") for part in relative.split("/") if part):
        return "names starting with a dot are hidden and never watched"
    return None


# --- what a scan of the camera folder does -------------------------------------------------------


def ledger_path(path: str) -> str:
    """The text that stands for ``path`` in the ledger, the queues and the logs: the path itself,
    or for an undecodable name its bytes with the undecodable ones as ``\\xNN`` escapes."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogateescape")
        return raw.decode("utf-8", "backslashreplace")
    return path


def is_storable(path: str) -> bool:
    return ledger_path(path) == path


class FileSeen(msgspec.Struct, frozen=True):
    """One look at one file: what :class:`~homesec.policy.uploads.UploadTracker` observes."""

    path: str
    size: int
    mtime: float
    tail_complete: bool | None = None  # None: not looked (not a regular image file)


class LedgerRow(msgspec.Struct, frozen=True):
    id: int
    file_path: str
    status: str
    sha256: str | None
    file_size: int | None


class ScanPlan(msgspec.Struct, frozen=True):
    fresh: list[FileSeen]  # no row, or rejected and changed since: validate (again)
    requeue: list[LedgerRow]  # queued or processing: put on the stream again


DETECTOR_OWNED = (UploadStatus.QUEUED, UploadStatus.PROCESSING)


def plan_scan(files: Iterable[FileSeen], rows: Iterable[LedgerRow]) -> ScanPlan:
    """What a scan does with the files it found and the ledger rows it read.

    A rejected file is looked at again only when its size differs from the rejected one (it was
    rewritten); ``done``, ``duplicate``, ``failed`` and unchanged ``rejected`` files are skipped.
    Every ``queued`` / ``processing`` row is requeued, whether or not its file is still there:
    the detector records a vanished file as failed, so the ledger does not keep it queued.
    """
    rows = list(rows)
    by_path = {row.file_path: row for row in rows}
    fresh = []
    for seen in files:
        row = by_path.get(ledger_path(seen.path))
        if row is None or (row.status == UploadStatus.REJECTED and row.file_size != seen.size):
            fresh.append(seen)
    requeue = [row for row in rows if row.status in DETECTOR_OWNED]
    return ScanPlan(fresh=fresh, requeue=requeue)
