"""When was the picture taken? The camera's EXIF ``DateTimeOriginal``, when it is believable, else
when the upload finished (the file's mtime). Pure: the tags come from the validation's one open of
the image (:func:`exif_capture`), the zone and the mtime from the caller.

**Reading.** ``DateTimeOriginal`` (tag 36867, in the Exif IFD) is ``"YYYY:MM:DD HH:MM:SS"`` in
the camera's local time, with no zone. ``SubSecTimeOriginal`` (37521) adds the fraction of a
second, ``OffsetTimeOriginal`` (36881, ``"+01:00"``) the UTC offset. With an offset the time is
exact; without one it is read as the house's time (``HOMESEC_TIMEZONE``; unset: this machine's
zone), since a camera is set to the time of the house it watches.

**Believing it.** A camera's clock may be unset or wrong, so the EXIF time is used only when

- its year is after :data:`UNSET_CLOCK_LAST_YEAR` (a camera without a set clock starts in 1970,
  2000 or thereabouts);
- it is at most :data:`MAX_AHEAD` after the upload finished (a camera's clock a little fast); a
  picture cannot be taken after its upload ended;
- it is at most :data:`MAX_UPLOAD_DELAY` before the upload finished (a camera's send queue, a slow
  link, an FTP retry). Further back it is more likely a clock set to another zone (off by whole
  hours) or drifting than a picture that took that long to arrive, and an hour's error on an
  event is worse than the minute the upload time is off by.

Otherwise the upload's time stands, and the reason is said (the caller logs it at debug level).
"""

from __future__ import annotations

import datetime as dt
import enum
import re

import msgspec

# Exif tags: the Exif IFD's pointer in IFD0, and the three of the capture time.
EXIF_IFD = 0x8769
DATE_TIME_ORIGINAL = 0x9003  # 36867
SUBSEC_TIME_ORIGINAL = 0x9291  # 37521
OFFSET_TIME_ORIGINAL = 0x9011  # 36881

UNSET_CLOCK_LAST_YEAR = 2000
MAX_AHEAD = dt.timedelta(minutes=5)
MAX_UPLOAD_DELAY = dt.timedelta(minutes=20)

# "2026:12:07 12:59:29"; some cameras write dashes in the date or a T between date and time.
_DATE_TIME = re.compile(r"(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?")
_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


class ExifCapture(msgspec.Struct, frozen=True):
    """The capture time as the camera wrote it: the wall-clock time (naive), and its UTC offset
    when the camera gave one."""

    taken: dt.datetime
    utc_offset: dt.timedelta | None = None


class Source(enum.StrEnum):
    EXIF = "exif"
    UPLOAD = "upload"


class CaptureTime(msgspec.Struct, frozen=True):
    """When the picture was taken (aware, UTC), where that came from, and why the EXIF time was
    not used (empty when it was, or when there was none)."""

    at: dt.datetime
    source: Source
    why_not_exif: str = ""


def _text(value: object) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip().strip("\x00").strip()


def parse_exif(
    date_time: object, subsec: object = None, offset: object = None
) -> ExifCapture | None:
    """The capture time from the tags' raw values, or None for a missing or unreadable one
    (``"0000:00:00 00:00:00"``, blanks, garbage)."""
    text = _text(date_time)
    if not text:
        return None
    match = _DATE_TIME.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, fraction = match.groups()
    try:
        taken = dt.datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:  # month 0, day 31 in June, hour 24 ...
        return None
    digits = fraction or _digits(_text(subsec))
    if digits:
        taken = taken.replace(microsecond=int(digits[:6].ljust(6, "0")))
    return ExifCapture(taken, _parse_offset(_text(offset)))


def _digits(text: str | None) -> str:
    return text if text and text.isdigit() else ""


def _parse_offset(text: str | None) -> dt.timedelta | None:
    if not text:
        return None
    if text.upper() == "Z":
        return dt.timedelta(0)
    match = _OFFSET.fullmatch(text)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if int(hours) > 14 or int(minutes) > 59:
        return None
    delta = dt.timedelta(hours=int(hours), minutes=int(minutes))
    return -delta if sign == "-" else delta


def exif_capture(image: object) -> ExifCapture | None:
    """The capture time in an open Pillow image's EXIF: ``DateTimeOriginal`` with its
    sub-seconds and offset from the Exif IFD (or, as some cameras write it, from IFD0). None
    when absent or unreadable; never raises on a malformed EXIF block."""
    try:
        exif = image.getexif()  # type: ignore[attr-defined]
        tags = dict(exif.get_ifd(EXIF_IFD))  # type: ignore[attr-defined]
        if DATE_TIME_ORIGINAL not in tags:
            tags = dict(exif)  # type: ignore[call-overload]
        return parse_exif(
            tags.get(DATE_TIME_ORIGINAL),
            tags.get(SUBSEC_TIME_ORIGINAL),
            tags.get(OFFSET_TIME_ORIGINAL),
        )
    except Exception:  # untrusted bytes: Pillow's TIFF parser raises all sorts on garbage
        return None


def in_zone(capture: ExifCapture, zone: dt.tzinfo | None) -> dt.datetime:
    """The capture time as an aware UTC datetime: by its own offset, else read in ``zone``
    (None: this machine's zone)."""
    if capture.utc_offset is not None:
        local = capture.taken.replace(tzinfo=dt.timezone(capture.utc_offset))
    elif zone is None:
        local = capture.taken.astimezone()  # a naive time is read as the machine's
    else:
        local = capture.taken.replace(tzinfo=zone)
    return local.astimezone(dt.UTC)


def capture_time(
    exif: ExifCapture | None, uploaded_at: dt.datetime, zone: dt.tzinfo | None
) -> CaptureTime:
    """When the picture was taken: the EXIF time if believable (see the module), else
    ``uploaded_at`` (aware: when the upload finished)."""
    uploaded_at = uploaded_at.astimezone(dt.UTC)
    if exif is None:
        return CaptureTime(uploaded_at, Source.UPLOAD)
    if exif.taken.year <= UNSET_CLOCK_LAST_YEAR:
        return CaptureTime(
            uploaded_at, Source.UPLOAD, f"EXIF time {exif.taken} is from an unset camera clock"
        )
    try:
        taken = in_zone(exif, zone)
    except (OverflowError, ValueError):  # year 9999 in a zone east of UTC
        return CaptureTime(uploaded_at, Source.UPLOAD, f"EXIF time {exif.taken} is out of range")
    if taken > uploaded_at + MAX_AHEAD:
        return CaptureTime(
            uploaded_at,
            Source.UPLOAD,
            f"EXIF time {taken.isoformat()} is {_gap(taken - uploaded_at)} after the upload "
            f"finished ({uploaded_at.isoformat()}): the camera's clock is ahead",
        )
    if taken < uploaded_at - MAX_UPLOAD_DELAY:
        return CaptureTime(
            uploaded_at,
            Source.UPLOAD,
            f"EXIF time {taken.isoformat()} is {_gap(uploaded_at - taken)} before the upload "
            f"finished ({uploaded_at.isoformat()}): the camera's clock or zone is off",
        )
    return CaptureTime(taken, Source.EXIF)


def from_iso(text: str | None) -> dt.datetime | None:
    """A job's ``captured_at`` (ISO-8601) as an aware datetime; None when absent or unreadable
    (the detector then takes the ledger row's)."""
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _gap(delta: dt.timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"
