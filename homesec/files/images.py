"""The Detector's file work: decode an upload for the model, write thumbnails of what it found.

Both run in a worker thread (they are CPU and disk work) and raise rather than return errors,
so the Detector decides per job whether to retry.
"""

from __future__ import annotations

import hashlib
import io
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple

from PIL import Image

from homesec.contract.analysis import Detection
from homesec.policy.thumbnails import render_thumbnail
from homesec.policy.validation import DEFAULT_MAX_BYTES, MIME_BY_FORMAT, OPEN_FORMATS


class UnreadableImage(Exception):
    """The upload passed validation once but cannot be decoded now (overwritten, being
    rewritten, a failing disk): possibly transient, so the job is retried."""


class DecodedImage(NamedTuple):
    image: Image.Image  # RGB, full resolution
    mime_type: str


def decode_image(path: str, max_pixels: int) -> DecodedImage:
    """The upload at ``path`` as RGB pixels. :class:`FileNotFoundError` when it is gone,
    :class:`UnreadableImage` for anything else that stops the decode.

    The pixel cap is checked again because the file may have been replaced since the watcher
    validated it, and a decompression bomb must cost a header read, not gigabytes.
    """
    with open(path, "rb") as stream:
        data = stream.read(DEFAULT_MAX_BYTES + 1)
    if len(data) > DEFAULT_MAX_BYTES:
        raise UnreadableImage(f"{path}: over {DEFAULT_MAX_BYTES} bytes")
    try:
        # No `with`: closing would discard the pixels we return. The bytes are in memory, so
        # there is no file handle to leak.
        image = Image.open(io.BytesIO(data), formats=OPEN_FORMATS)
        if image.width * image.height > max_pixels:
            raise UnreadableImage(
                f"{path}: {image.width}x{image.height} is over {max_pixels} pixels"
            )
        mime_type = MIME_BY_FORMAT[image.format or ""]
        image.load()  # decodes every byte: truncation shows here
        # Most camera JPEGs are RGB already; convert() would copy all pixels for nothing.
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    except UnreadableImage:
        raise
    except Exception as exc:  # bytes from disk: Pillow raises all sorts on garbage
        raise UnreadableImage(f"{path}: cannot decode: {exc}") from exc
    return DecodedImage(rgb, mime_type)


def thumbnail_path(thumbnail_dir: Path, camera_id: str, file_path: str, index: int) -> Path:
    """``<thumbnail_dir>/<camera>/<hash of the upload's path>_<index>.jpg``.

    Deterministic, so a retried job overwrites its thumbnails instead of adding a second set.
    Keyed by the upload's path (unique in the ledger), not its content: a camera resending an
    identical frame after the dedupe window makes a second upload, and deleting the first one's
    thumbnails must not delete the second's.
    """
    key = hashlib.sha256(file_path.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    return thumbnail_dir / camera_id / f"{key}_{index}.jpg"


def write_thumbnails(
    image: Image.Image,
    detections: Sequence[Detection],
    thumbnail_dir: Path,
    camera_id: str,
    file_path: str,
) -> list[str | None]:
    """Write one thumbnail per detection; their paths in order (None: the box left nothing to
    show). Each is written to a temporary name and renamed, so a reader never sees half a JPEG.
    """
    paths: list[str | None] = []
    for index, detection in enumerate(detections):
        jpeg = render_thumbnail(image, detection.bbox)
        if jpeg is None:
            paths.append(None)
            continue
        path = thumbnail_path(thumbnail_dir, camera_id, file_path, index)
        path.parent.mkdir(parents=True, exist_ok=True)
        # A temporary name of this write alone: two replicas, or two entries of one file in a
        # batch, may write the same thumbnail at once.
        temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        temporary.write_bytes(jpeg)
        os.replace(temporary, path)
        paths.append(str(path))
    return paths
