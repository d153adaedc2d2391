"""The filesystem an FTP session sees: its camera's folder as ``/``, write-only, size-capped.

:class:`CameraFS` is pyftpdlib's :class:`AbstractedFS` narrowed for a camera: no process-wide
``chdir``, no file opened for reading, and a file opened for writing only after its parent's real
path is checked to be inside the folder, with its last component never followed (``O_NOFOLLOW``)
and no overwriting of a file with other hard links, which could live outside the folder. The
file it returns is a :class:`CappedFile`, which stops writing past ``MAX_UPLOAD_BYTES``; the
session's data channel then reads the rest and throws it away and answers 552
(:mod:`homesec.files.ftp_session`).
"""

from __future__ import annotations

import errno
import os
import stat

from pyftpdlib.filesystems import AbstractedFS

from homesec.policy.ftp_policy import inside
from homesec.policy.validation import SIGNATURE_BYTES

_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class CappedFile:
    """An upload's file that stops writing past ``limit`` bytes and says so; it keeps the
    file's first bytes, which tell at the end whether it can be an image at all."""

    def __init__(self, file, path: str, limit: int) -> None:
        self._file = file
        self.name = path
        self.limit = limit
        self.written = 0
        self.discarded = 0  # bytes received past the cap, thrown away
        self.over_limit = False
        self.start = b""  # the first SIGNATURE_BYTES bytes

    def write(self, data: bytes) -> int:
        if not self.over_limit and self.written + len(data) > self.limit:
            self.over_limit = True
        if self.over_limit:
            self.discarded += len(data)  # dropped: the session drains the rest, then says 552
            return len(data)
        if len(self.start) < SIGNATURE_BYTES:
            self.start += data[: SIGNATURE_BYTES - len(self.start)]
        self.written += len(data)
        return self._file.write(data)

    def __getattr__(self, name: str):
        return getattr(self._file, name)


class CameraFS(AbstractedFS):
    """The camera's folder as ``/``; no process-wide chdir, no reads, careful writes."""

    def chdir(self, path: str) -> None:
        if not os.path.isdir(path):
            raise OSError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
        self.cwd = self.fs2ftp(path)

    def open(self, filename: str, mode: str):
        if "w" not in mode:
            raise OSError(errno.EACCES, "this account is write-only")
        parent = os.path.realpath(os.path.dirname(filename))
        if not inside(os.path.realpath(self.root), parent):
            raise OSError(errno.EACCES, "outside this camera's folder")
        fd = os.open(filename, _WRITE_FLAGS, 0o644)
        try:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode) or info.st_nlink > 1:
                raise OSError(errno.EACCES, "refusing to overwrite a file linked elsewhere")
            os.ftruncate(fd, 0)
            file = os.fdopen(fd, "wb")
        except BaseException:
            os.close(fd)
            raise
        limit = self.cmd_channel.state.config.max_upload_bytes
        return CappedFile(file, filename, limit)
