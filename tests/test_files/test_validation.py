"""Validation of candidate uploads: real files on disk, one per kind of bad input (the rules of
:mod:`homesec.policy.validation` through the reading of :mod:`homesec.files.validation`)."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import msgspec
import numpy as np
import pytest
from PIL import Image, ImageFile

from homesec.files.validation import validate_upload
from homesec.policy.validation import (
    SIGNATURE_BYTES,
    ImageLimits,
    RejectReason,
    ValidationResult,
    check_start,
    is_inside_folder,
    printable_path,
    validate_image_bytes,
)
from tests.support.settings import make_settings


def jpeg_bytes(width: int = 320, height: int = 240, seed: int = 0) -> bytes:
    # Noise keeps the file well above the 1 KiB minimum and makes corruption detectable.
    pixels = np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def png_bytes(width: int = 200, height: int = 150) -> bytes:
    pixels = np.random.default_rng(1).integers(0, 256, (height, width, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def huge_png_bytes(width: int, height: int, *, real_pixels: bool) -> bytes:
    """A 1-bit greyscale PNG of width x height, written by hand.

    With ``real_pixels`` the image data is complete and valid (all-black rows compress to a few
    KiB per 20000 rows); without, it is a small garbage IDAT, so only a check made before
    decoding can name the real problem.
    """
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    if real_pixels:
        row = b"\x00" * (1 + (width + 7) // 8)  # filter byte + packed bits
        compressor = zlib.compressobj(9)
        chunks = [compressor.compress(row * 1000) for _ in range(height // 1000)]
        chunks.append(compressor.compress(row * (height % 1000)))
        data = b"".join(chunks) + compressor.flush()
    else:
        data = os.urandom(4096)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    camera = tmp_path / "front_door"
    camera.mkdir()
    return camera


def write(path: Path, data: bytes) -> str:
    path.write_bytes(data)
    return str(path)


def test_valid_jpeg(folder: Path) -> None:
    data = jpeg_bytes(1280, 720)
    result = validate_upload(write(folder / "snap.jpg", data), str(folder))
    assert result.ok, result.message
    assert result.reason is None
    assert (result.width, result.height) == (1280, 720)
    assert result.size == len(data)
    assert result.mime_type == "image/jpeg"
    assert result.sha256 == hashlib.sha256(data).hexdigest()


def test_valid_png_and_uppercase_extension(folder: Path) -> None:
    result = validate_upload(write(folder / "SNAP.PNG", png_bytes()), str(folder))
    assert result.ok, result.message
    assert (result.width, result.height, result.mime_type) == (200, 150, "image/png")


def test_nested_folder_is_inside(folder: Path) -> None:
    (folder / "2024" / "01").mkdir(parents=True)
    result = validate_upload(write(folder / "2024" / "01" / "a.jpeg", jpeg_bytes()), str(folder))
    assert result.ok, result.message


def test_multi_picture_jpeg(folder: Path) -> None:
    frame = Image.fromarray(np.random.default_rng(3).integers(0, 256, (240, 320, 3), np.uint8))
    out = io.BytesIO()
    frame.save(out, "MPO", save_all=True, append_images=[frame])
    result = validate_upload(write(folder / "stereo.jpg", out.getvalue()), str(folder))
    assert (result.ok, result.mime_type) == (True, "image/jpeg")


def test_mime_type_follows_content_not_name(folder: Path) -> None:
    result = validate_upload(write(folder / "really-a-jpeg.png", jpeg_bytes()), str(folder))
    assert result.ok
    assert result.mime_type == "image/jpeg"


def test_zero_byte_file(folder: Path) -> None:
    result = validate_upload(write(folder / "empty.jpg", b""), str(folder))
    assert (result.ok, result.reason, result.size) == (False, RejectReason.EMPTY, 0)


def test_file_under_minimum_size(folder: Path) -> None:
    result = validate_upload(write(folder / "tiny.jpg", b"\xff\xd8" + b"x" * 100), str(folder))
    assert (result.ok, result.reason, result.size) == (False, RejectReason.TOO_SMALL, 102)


def test_truncated_jpeg_cut_in_half(folder: Path) -> None:
    data = jpeg_bytes(1280, 720)
    result = validate_upload(write(folder / "half.jpg", data[: len(data) // 2]), str(folder))
    assert not result.ok
    assert result.reason == RejectReason.TRUNCATED
    assert (result.width, result.height) == (1280, 720)  # the header was fine
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False


def test_truncated_progressive_jpeg(folder: Path) -> None:
    pixels = np.random.default_rng(2).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", progressive=True)
    data = out.getvalue()
    assert validate_upload(write(folder / "p.jpg", data), str(folder)).ok
    result = validate_upload(write(folder / "p-half.jpg", data[: len(data) // 2]), str(folder))
    assert result.reason == RejectReason.TRUNCATED


def test_truncated_png(folder: Path) -> None:
    data = png_bytes()
    result = validate_upload(write(folder / "half.png", data[: len(data) // 2]), str(folder))
    assert result.reason == RejectReason.TRUNCATED


def test_jpeg_missing_only_its_end_marker_is_truncated(folder: Path) -> None:
    result = validate_upload(write(folder / "noeoi.jpg", jpeg_bytes()[:-2]), str(folder))
    assert result.reason == RejectReason.TRUNCATED


def test_jpeg_with_corrupt_middle(folder: Path) -> None:
    data = bytearray(jpeg_bytes(640, 480))
    middle = len(data) // 2
    data[middle : middle + 400] = np.random.default_rng(7).integers(0, 256, 400, np.uint8).tobytes()
    result = validate_upload(write(folder / "corrupt.jpg", bytes(data)), str(folder))
    assert not result.ok
    assert result.reason == RejectReason.CORRUPT


def test_text_file_named_jpg(folder: Path) -> None:
    text = ("this is not a picture\n" * 200).encode()
    result = validate_upload(write(folder / "notes.jpg", text), str(folder))
    assert (result.ok, result.reason) == (False, RejectReason.NOT_AN_IMAGE)
    assert result.sha256 == hashlib.sha256(text).hexdigest()  # recorded even when refused


def test_decompression_bomb_png_is_refused_from_its_header(folder: Path) -> None:
    data = huge_png_bytes(20_000, 20_000, real_pixels=True)
    assert len(data) < 1_000_000  # 400 million pixels in well under a megabyte
    result = validate_upload(write(folder / "bomb.png", data), str(folder))
    assert (result.ok, result.reason) == (False, RejectReason.TOO_MANY_PIXELS)
    assert "pixels" in result.message or "bomb" in result.message


def test_pixel_cap_is_checked_before_decoding(folder: Path) -> None:
    # 64 M pixels: over homesec's 50 M default, under Pillow's own bomb limit; garbage pixel
    # data, so a decode attempted first would say "corrupt" instead.
    data = huge_png_bytes(8000, 8000, real_pixels=False)
    result = validate_upload(write(folder / "big.png", data), str(folder))
    assert (result.reason, result.width, result.height) == (
        RejectReason.TOO_MANY_PIXELS,
        8000,
        8000,
    )
    assert "64000000 pixels" in result.message


def test_pixel_cap_from_settings(folder: Path, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, foscam_base_path=tmp_path, max_image_pixels=10_000)
    limits = ImageLimits.from_settings(settings)
    result = validate_upload(write(folder / "a.jpg", jpeg_bytes(200, 100)), str(folder), limits)
    assert result.reason == RejectReason.TOO_MANY_PIXELS


def test_symlink_leading_out_of_the_folder(folder: Path, tmp_path: Path) -> None:
    secret = tmp_path / "elsewhere.jpg"
    secret.write_bytes(jpeg_bytes())
    link = folder / "link.jpg"
    link.symlink_to(secret)
    result = validate_upload(str(link), str(folder))
    assert (result.ok, result.reason) == (False, RejectReason.OUTSIDE_FOLDER)
    assert result.sha256 is None  # refused before anything was read


def test_symlink_within_the_folder_is_fine(folder: Path) -> None:
    target = folder / "real.jpg"
    target.write_bytes(jpeg_bytes())
    (folder / "alias.jpg").symlink_to(target)
    assert validate_upload(str(folder / "alias.jpg"), str(folder)).ok


def test_dot_dot_path_out_of_the_folder(folder: Path, tmp_path: Path) -> None:
    (tmp_path / "outside.jpg").write_bytes(jpeg_bytes())
    result = validate_upload(str(folder / ".." / "outside.jpg"), str(folder))
    assert result.reason == RejectReason.OUTSIDE_FOLDER


def test_the_folder_itself_is_not_inside_it(folder: Path) -> None:
    assert validate_upload(str(folder), str(folder)).reason == RejectReason.OUTSIDE_FOLDER


@pytest.mark.parametrize("name", ["clip.gif", "notes.txt", "no_extension", "snap.jpg.exe"])
def test_extensions_not_allowed(folder: Path, name: str) -> None:
    result = validate_upload(write(folder / name, jpeg_bytes()), str(folder))
    assert (result.ok, result.reason) == (False, RejectReason.BAD_EXTENSION)


def test_path_with_a_nul_byte_does_not_raise(folder: Path) -> None:
    result = validate_upload(str(folder / "a\x00b.jpg"), str(folder))
    assert (result.ok, result.reason) == (False, RejectReason.UNREADABLE)
    assert "\\x00" in result.message


def test_symlink_loop(folder: Path) -> None:
    (folder / "loop.jpg").symlink_to(folder / "loop.jpg")
    result = validate_upload(str(folder / "loop.jpg"), str(folder))
    assert (result.ok, result.reason) == (False, RejectReason.UNREADABLE)


def test_missing_file(folder: Path) -> None:
    result = validate_upload(str(folder / "gone.jpg"), str(folder))
    assert (result.ok, result.reason) == (False, RejectReason.MISSING)


def test_directory_named_like_an_image(folder: Path) -> None:
    (folder / "dir.jpg").mkdir()
    assert validate_upload(str(folder / "dir.jpg"), str(folder)).reason == RejectReason.NOT_A_FILE


def test_fifo_named_like_an_image_does_not_block(folder: Path) -> None:
    os.mkfifo(folder / "pipe.jpg")
    assert validate_upload(str(folder / "pipe.jpg"), str(folder)).reason == RejectReason.NOT_A_FILE


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files regardless of their mode")
def test_unreadable_file(folder: Path) -> None:
    path = folder / "locked.jpg"
    path.write_bytes(jpeg_bytes())
    path.chmod(0)
    assert validate_upload(str(path), str(folder)).reason == RejectReason.UNREADABLE


def test_file_over_the_byte_cap(folder: Path) -> None:
    limits = ImageLimits(max_bytes=4096)
    result = validate_upload(write(folder / "big.jpg", jpeg_bytes()), str(folder), limits)
    assert (result.reason, result.sha256) == (RejectReason.TOO_LARGE, None)


@pytest.mark.parametrize(
    "name",
    ["Vordertür Kamera 1.jpg", "  spaces  .jpg", "line\nbreak.jpg", "tab\there.png", "日本.jpeg"],
)
def test_odd_file_names(folder: Path, name: str) -> None:
    data = png_bytes() if name.endswith(".png") else jpeg_bytes()
    assert validate_upload(write(folder / name, data), str(folder)).ok


def test_odd_name_of_a_refused_file_gives_a_one_line_message(folder: Path) -> None:
    result = validate_upload(write(folder / "evil\nname.jpg", b""), str(folder))
    assert result.reason == RejectReason.EMPTY
    assert "\n" not in result.message


def test_undecodable_file_name(folder: Path) -> None:
    raw = os.fsencode(folder) + b"/caf\xe9 \xff.jpg"  # Latin-1 bytes, not UTF-8
    with open(raw, "wb") as stream:
        stream.write(jpeg_bytes())
    assert validate_upload(os.fsdecode(raw), str(folder)).ok
    raw_gif = os.fsencode(folder) + b"/caf\xe9.gif"
    with open(raw_gif, "wb") as stream:
        stream.write(jpeg_bytes())
    result = validate_upload(os.fsdecode(raw_gif), str(folder))
    assert result.reason == RejectReason.BAD_EXTENSION
    result.message.encode("utf-8")  # storable as text: no lone surrogates left
    assert "\\xe9" in result.message


def test_printable_path_keeps_letters_and_escapes_controls() -> None:
    assert printable_path("Vordertür/a b.jpg") == "Vordertür/a b.jpg"
    assert printable_path("a\nb\x00.jpg") == "a\\nb\\x00.jpg"
    assert printable_path("lone\ud800.jpg") == "lone\\ud800.jpg"


def test_is_inside_folder_rule() -> None:
    assert is_inside_folder("/cams/front/a.jpg", "/cams/front")
    assert is_inside_folder("/cams/front/x/y/a.jpg", "/cams/front")
    assert not is_inside_folder("/cams/front", "/cams/front")
    assert not is_inside_folder("/cams/frontdoor/a.jpg", "/cams/front")  # a prefix, not a parent
    assert not is_inside_folder("/etc/passwd", "/cams/front")
    assert not is_inside_folder("relative.jpg", "/cams/front")


def test_validate_image_bytes_without_a_file() -> None:
    data = jpeg_bytes(1280, 720)
    result = validate_image_bytes(data)
    assert result.ok
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert validate_image_bytes(b"").reason == RejectReason.EMPTY


def test_result_round_trips_as_json() -> None:
    result = validate_image_bytes(jpeg_bytes()[:3000])
    decoded = msgspec.json.decode(msgspec.json.encode(result), type=ValidationResult)
    assert decoded == result
    assert b'"reason":"truncated"' in msgspec.json.encode(result)


@pytest.mark.parametrize(
    "data",
    [b"", b"tiny", b"hello world\n" * 200, b"GIF89a" + bytes(4000), b"\xff\xd8" + bytes(4000)],
)
def test_the_cheap_check_at_the_end_of_an_ftp_transfer_agrees_with_full_validation(
    data: bytes,
) -> None:
    """What the FTP server answers 550 for is what ingest rejects, for the same reason."""
    cheap = check_start(data[:SIGNATURE_BYTES], len(data))
    full = validate_image_bytes(data)
    assert cheap is not None and not full.ok
    assert cheap.reason == full.reason and cheap.message == full.message


def test_the_cheap_check_passes_what_only_a_decode_can_refuse() -> None:
    for data in (jpeg_bytes(), png_bytes(), jpeg_bytes()[:3000]):
        assert check_start(data[:SIGNATURE_BYTES], len(data)) is None
