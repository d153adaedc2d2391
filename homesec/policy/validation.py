"""Is this upload a safe, whole image? The rules of validation, on paths and bytes; bad input never
raises. Reading the file itself is :func:`homesec.files.validation.validate_upload`'s.

The file is read once; the SHA-256 (for deduplication) and the decode both work on those bytes.
Checks run cheapest first and each refusal carries a stable reason code for the ``uploads``
ledger (a refused file is recorded and never retried blindly):

1. path safety: the resolved path lies inside the resolved camera folder (a symlink leading out
   is refused), and it names a regular file (a FIFO would block the reader forever);
2. extension ``.jpg``/``.jpeg``/``.png``, size between ``min_bytes`` and ``max_bytes``;
3. header: JPEG or PNG, and width x height within ``max_pixels`` *before* any pixel is
   decoded, so a decompression bomb costs a header read, not gigabytes;
4. full decode: a truncated or corrupt file is refused.

A valid image also gives its EXIF capture time (``DateTimeOriginal``, read from the same open
image: :func:`homesec.policy.capture_time.exif_capture`), which ingest weighs against the
upload's time.

Speed: a JPEG is decoded in libjpeg's 1/8-scale mode (``Image.draft``). Every entropy-coded
byte is still decoded, so truncation and corrupt data are caught exactly as at full scale, but
most of the inverse DCT and colour conversion is skipped, several times faster for camera JPEGs.
The pixels are thrown away: the detector decodes the file itself.
"""

from __future__ import annotations

import enum
import hashlib
import io
import os

import msgspec
from PIL import Image, ImageFile, UnidentifiedImageError

from homesec.policy.capture_time import ExifCapture, exif_capture
from homesec.policy.tamper import SAMPLE_SIZE
from homesec.settings import Settings

# Truncated images must fail to load. This is Pillow's default; a process-wide True set by some
# other library would let a half-written JPEG through, so this module insists on False.
ImageFile.LOAD_TRUNCATED_IMAGES = False

MIME_BY_EXTENSION = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}
# The only decoders Pillow may try; a JPEG carrying several frames (multi-picture format)
# comes back from the JPEG decoder as MPO.
OPEN_FORMATS = ("JPEG", "PNG")
MIME_BY_FORMAT = {"JPEG": "image/jpeg", "MPO": "image/jpeg", "PNG": "image/png"}

# No camera snapshot comes near this; it bounds what one read may pull into memory.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024


class RejectReason(enum.StrEnum):
    OUTSIDE_FOLDER = "outside_folder"
    BAD_EXTENSION = "bad_extension"
    MISSING = "missing"
    NOT_A_FILE = "not_a_file"
    UNREADABLE = "unreadable"
    EMPTY = "empty"
    TOO_SMALL = "too_small"
    TOO_LARGE = "too_large"
    NOT_AN_IMAGE = "not_an_image"
    TOO_MANY_PIXELS = "too_many_pixels"
    TRUNCATED = "truncated"
    CORRUPT = "corrupt"


class ValidationResult(msgspec.Struct, frozen=True, kw_only=True):
    """The verdict on one file. Fields the checks did not reach are None."""

    ok: bool
    reason: RejectReason | None = None
    message: str
    width: int | None = None
    height: int | None = None
    size: int | None = None  # bytes
    mime_type: str | None = None
    sha256: str | None = None
    exif: ExifCapture | None = None  # the camera's capture time, when a valid image has one
    # A valid image's SAMPLE_SIZE grey levels, from the same decode: the tamper check's input.
    sample: bytes | None = None


class ImageLimits(msgspec.Struct, frozen=True, kw_only=True):
    min_bytes: int = 1024
    max_bytes: int = DEFAULT_MAX_BYTES
    max_pixels: int = 50_000_000

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        return cls(min_bytes=settings.min_image_bytes, max_pixels=settings.max_image_pixels)


def reject(reason: RejectReason, message: str, **known: object) -> ValidationResult:
    return ValidationResult(ok=False, reason=reason, message=message, **known)


def printable_path(path: str) -> str:
    """A path fit for a one-line message and a UTF-8 column: control characters (a newline)
    and undecodable bytes (surrogates from ``os.fsdecode``) become backslash escapes; other
    non-ASCII letters stay as they are."""
    try:
        raw = path.encode("utf-8", "surrogateescape")  # back to the bytes on disk
    except UnicodeEncodeError:  # surrogates that did not come from os.fsdecode
        raw = path.encode("utf-8", "backslashreplace")
    text = raw.decode("utf-8", "backslashreplace")
    if text.isprintable():
        return text
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text
    )


def is_inside_folder(real_path: str, real_folder: str) -> bool:
    """Pure rule on already-resolved (``os.path.realpath``) paths: strictly below the folder."""
    if real_path == real_folder:
        return False
    try:
        return os.path.commonpath([real_path, real_folder]) == real_folder
    except ValueError:  # one relative, one absolute
        return False


def has_allowed_extension(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in MIME_BY_EXTENSION


# What a JPEG and a PNG start with: the signatures Pillow's JPEG and PNG decoders accept.
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
# Bytes of a file's start that :func:`check_start` needs.
SIGNATURE_BYTES = max(len(signature) for signature in IMAGE_SIGNATURES)


def _size_refusal(size: int, limits: ImageLimits) -> ValidationResult | None:
    if size == 0:
        return reject(RejectReason.EMPTY, "the file is empty", size=0)
    if size < limits.min_bytes:
        return reject(RejectReason.TOO_SMALL, f"{size} bytes, under {limits.min_bytes}", size=size)
    if size > limits.max_bytes:
        return reject(RejectReason.TOO_LARGE, f"{size} bytes, over {limits.max_bytes}", size=size)
    return None


def check_start(
    start: bytes, size: int, limits: ImageLimits | None = None
) -> ValidationResult | None:
    """The cheap part of :func:`validate_image_bytes`, on a file's size and its first
    :data:`SIGNATURE_BYTES` bytes: the refusal it would give for the size or a file that is no
    JPEG or PNG at all, else None (which does not make it a valid image: the header and the
    decode are not looked at). The FTP server answers with it at the end of a transfer."""
    refusal = _size_refusal(size, limits or ImageLimits())
    if refusal is not None:
        return refusal
    if not start.startswith(IMAGE_SIGNATURES):
        return reject(RejectReason.NOT_AN_IMAGE, "not a JPEG or PNG image", size=size)
    return None


def validate_image_bytes(data: bytes, limits: ImageLimits | None = None) -> ValidationResult:
    """Validate an image held in memory: size, SHA-256, header, pixel cap, full decode."""
    limits = limits or ImageLimits()
    size = len(data)
    refusal = _size_refusal(size, limits)
    if refusal is not None:
        return refusal
    digest = hashlib.sha256(data).hexdigest()
    try:
        image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
    except Image.DecompressionBombError as exc:
        # Pillow's own hard limit (twice Image.MAX_IMAGE_PIXELS) fired on the header.
        return reject(
            RejectReason.TOO_MANY_PIXELS, f"decompression bomb: {exc}", size=size, sha256=digest
        )
    except UnidentifiedImageError:
        return reject(
            RejectReason.NOT_AN_IMAGE, "not a JPEG or PNG image", size=size, sha256=digest
        )
    except Exception as exc:  # untrusted bytes: Pillow's parsers raise all sorts on garbage
        return reject(RejectReason.CORRUPT, f"bad image header: {exc}", size=size, sha256=digest)
    with image:
        image_format = image.format or ""
        width, height = image.size
        known = {
            "size": size,
            "sha256": digest,
            "width": width,
            "height": height,
            "mime_type": MIME_BY_FORMAT[image_format],
        }
        if width * height > limits.max_pixels:
            return reject(
                RejectReason.TOO_MANY_PIXELS,
                f"{width}x{height} is {width * height} pixels, over {limits.max_pixels}",
                **known,
            )
        refusal = _decode(image)
        exif = exif_capture(image) if refusal is None else None
        sample = _gray_sample(image) if refusal is None else None
    if refusal is not None:
        return reject(*refusal, **known)
    return ValidationResult(
        ok=True,
        message=f"valid {image_format} {width}x{height}",
        exif=exif,
        sample=sample,
        **known,
    )


def _gray_sample(image: Image.Image) -> bytes | None:
    """The decoded (draft-scale) pixels as :data:`SAMPLE_SIZE` grey levels, row by row; None
    when Pillow cannot convert them (an exotic mode): the tamper check skips that frame."""
    try:
        return image.convert("L").resize(SAMPLE_SIZE, Image.Resampling.BILINEAR).tobytes()
    except Exception:  # untrusted pixels: never let the tamper sample refuse a valid image
        return None


def _decode(image: ImageFile.ImageFile) -> tuple[RejectReason, str] | None:
    """Decode every byte of the image; the refusal if that fails, else None."""
    if image.format in ("JPEG", "MPO"):
        image.draft(None, (max(1, image.width // 8), max(1, image.height // 8)))
    try:
        image.load()
    except Image.DecompressionBombError as exc:
        return RejectReason.TOO_MANY_PIXELS, f"decompression bomb: {exc}"
    except OSError as exc:
        # Pillow says "image file is truncated" when the data ends early; anything else
        # (broken data stream, bad PNG CRC ...) is corruption.
        if "truncated" in str(exc):
            return RejectReason.TRUNCATED, f"truncated image: {exc}"
        return RejectReason.CORRUPT, f"cannot decode: {exc}"
    except Exception as exc:  # untrusted bytes, as above
        return RejectReason.CORRUPT, f"cannot decode: {exc}"
    return None
