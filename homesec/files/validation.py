"""Reading one candidate upload for validation: the filesystem half of
:mod:`homesec.policy.validation`, whose rules decide on the path and the bytes read here.

The resolved path must lie inside the resolved camera folder (a symlink leading out is refused)
and name a regular file (a FIFO would block the reader forever); it is opened without following a
symlink swapped in since, and read once, up to one byte past the size cap.
"""

from __future__ import annotations

import errno
import os
import stat

from homesec.policy.validation import (
    ImageLimits,
    RejectReason,
    ValidationResult,
    has_allowed_extension,
    is_inside_folder,
    printable_path,
    reject,
    validate_image_bytes,
)


def validate_upload(
    path: str, camera_folder: str, limits: ImageLimits | None = None
) -> ValidationResult:
    """Validate the file at ``path``, which must lie inside ``camera_folder``. Never raises for
    bad input: every refusal is a :class:`ValidationResult` with a reason."""
    limits = limits or ImageLimits()
    shown = printable_path(path)
    try:
        real_path = os.path.realpath(path)
        real_folder = os.path.realpath(camera_folder)
    except (OSError, ValueError) as exc:  # a NUL in the name, a symlink loop
        return reject(RejectReason.UNREADABLE, f"{shown}: not a usable path: {exc}")
    if not is_inside_folder(real_path, real_folder):
        return reject(RejectReason.OUTSIDE_FOLDER, f"{shown} resolves outside the camera folder")
    if not has_allowed_extension(path):
        return reject(RejectReason.BAD_EXTENSION, f"{shown} is not a .jpg, .jpeg or .png file")
    try:
        data = _read_regular_file(real_path, limits.max_bytes)
    except _Refused as refused:
        return reject(refused.reason, f"{shown}: {refused.detail}", size=refused.size)
    return validate_image_bytes(data, limits)


class _Refused(Exception):
    def __init__(self, reason: RejectReason, detail: str, size: int | None = None) -> None:
        super().__init__(detail)
        self.reason, self.detail, self.size = reason, detail, size


def _read_regular_file(real_path: str, max_bytes: int) -> bytes:
    # O_NOFOLLOW: the path was resolved already, so a symlink here was swapped in since.
    # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(real_path, flags)
    except FileNotFoundError:
        raise _Refused(RejectReason.MISSING, "the file is gone") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a symlink loop, or a symlink swapped in since realpath
            raise _Refused(RejectReason.UNREADABLE, "a symlink that cannot be followed") from None
        raise _Refused(RejectReason.UNREADABLE, f"cannot open: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise _Refused(RejectReason.NOT_A_FILE, "not a regular file")
        if info.st_size > max_bytes:
            raise _Refused(
                RejectReason.TOO_LARGE, f"{info.st_size} bytes, over {max_bytes}", info.st_size
            )
        with os.fdopen(fd, "rb", closefd=False) as stream:
            # Sized from fstat: asking for max_bytes would allocate that much on every read.
            # The extra byte tells whether the file grew since; then read on, but only up to
            # one byte past the cap.
            data = stream.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += stream.read(max_bytes + 1 - len(data))
    except OSError as exc:
        raise _Refused(RejectReason.UNREADABLE, f"cannot read: {exc.strerror}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise _Refused(RejectReason.TOO_LARGE, f"over {max_bytes} bytes", len(data))
    return data
