"""When the picture was taken: EXIF DateTimeOriginal read and weighed against the upload's time
(:mod:`homesec.policy.capture_time`), and read by validation from the one open of the image."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo

import numpy as np
import pytest
from PIL import Image

from homesec.contract.analysis import DetectionSummary
from homesec.policy import scene
from homesec.policy.capture_time import (
    DATE_TIME_ORIGINAL,
    EXIF_IFD,
    MAX_AHEAD,
    MAX_UPLOAD_DELAY,
    OFFSET_TIME_ORIGINAL,
    SUBSEC_TIME_ORIGINAL,
    ExifCapture,
    Source,
    capture_time,
    exif_capture,
    parse_exif,
)
from homesec.policy.validation import ImageLimits, validate_image_bytes

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# 12:59:29 in Berlin in December (UTC+1).
TAKEN = dt.datetime(2026, 12, 7, 11, 59, 29, tzinfo=dt.UTC)


def jpeg_with_exif(tags: dict[int, str] | None = None, *, in_ifd0: bool = False) -> bytes:
    pixels = np.random.default_rng(0).integers(0, 256, (120, 160, 3), dtype=np.uint8)
    exif = Image.Exif()
    target = exif if in_ifd0 else exif.get_ifd(EXIF_IFD)
    for tag, value in (tags or {}).items():
        target[tag] = value
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", exif=exif)
    return out.getvalue()


# --- parsing --------------------------------------------------------------------------------------
def test_parse_the_plain_exif_form() -> None:
    assert parse_exif("2026:12:07 12:59:29") == ExifCapture(dt.datetime(2026, 12, 7, 12, 59, 29))


def test_parse_sub_seconds_and_offset() -> None:
    capture = parse_exif("2026:12:07 12:59:29", "047", "+01:00")
    assert capture == ExifCapture(
        dt.datetime(2026, 12, 7, 12, 59, 29, 47000), dt.timedelta(hours=1)
    )
    assert parse_exif(b"2026:12:07 12:59:29\x00", None, "-05:30").utc_offset == -dt.timedelta(
        hours=5, minutes=30
    )


@pytest.mark.parametrize(
    "raw",
    [None, "", "0000:00:00 00:00:00", "    :  :     :  :  ", "2026:13:07 12:59:29", "garbage", 7],
)
def test_unreadable_values_are_no_capture_time(raw: object) -> None:
    assert parse_exif(raw) is None


def test_a_bad_offset_or_sub_second_is_ignored_not_fatal() -> None:
    capture = parse_exif("2026:12:07 12:59:29", "x1", "+25:00")
    assert capture == ExifCapture(dt.datetime(2026, 12, 7, 12, 59, 29))


# --- believing it ---------------------------------------------------------------------------------
def test_exif_without_offset_is_read_in_the_house_zone() -> None:
    uploaded = TAKEN + dt.timedelta(minutes=1, seconds=4)
    found = capture_time(parse_exif("2026:12:07 12:59:29"), uploaded, BERLIN)
    assert found.source is Source.EXIF
    assert found.at == TAKEN
    assert found.at.tzinfo is not None


def test_exif_with_offset_ignores_the_house_zone() -> None:
    found = capture_time(
        parse_exif("2026:12:07 06:59:29", None, "-05:00"), TAKEN + dt.timedelta(seconds=30), BERLIN
    )
    assert (found.source, found.at) == (Source.EXIF, TAKEN)


def test_no_exif_is_the_upload_time() -> None:
    uploaded = TAKEN + dt.timedelta(seconds=30)
    found = capture_time(None, uploaded, BERLIN)
    assert (found.at, found.source, found.why_not_exif) == (uploaded, Source.UPLOAD, "")


@pytest.mark.parametrize("text", ["1970:01:01 00:00:12", "2000:01:01 08:00:00"])
def test_an_unset_camera_clock_is_not_believed(text: str) -> None:
    uploaded = TAKEN
    found = capture_time(parse_exif(text), uploaded, BERLIN)
    assert (found.at, found.source) == (uploaded, Source.UPLOAD)
    assert "unset camera clock" in found.why_not_exif


def test_a_capture_after_the_upload_is_believed_only_within_clock_skew() -> None:
    capture = parse_exif("2026:12:07 12:59:29")
    just = capture_time(capture, TAKEN - MAX_AHEAD, BERLIN)
    assert just.source is Source.EXIF
    too_far = capture_time(capture, TAKEN - MAX_AHEAD - dt.timedelta(seconds=1), BERLIN)
    assert too_far.source is Source.UPLOAD
    assert "ahead" in too_far.why_not_exif


def test_a_capture_long_before_the_upload_is_not_believed() -> None:
    capture = parse_exif("2026:12:07 12:59:29")
    late = capture_time(capture, TAKEN + MAX_UPLOAD_DELAY, BERLIN)
    assert (late.source, late.at) == (Source.EXIF, TAKEN)
    uploaded = TAKEN + MAX_UPLOAD_DELAY + dt.timedelta(seconds=1)
    wild = capture_time(capture, uploaded, BERLIN)
    assert (wild.source, wild.at) == (Source.UPLOAD, uploaded)
    assert "before the upload" in wild.why_not_exif


def test_a_camera_set_to_another_zone_falls_back_to_the_upload_time() -> None:
    # The camera writes UTC wall-clock time without an offset; the house is an hour east.
    uploaded = TAKEN + dt.timedelta(seconds=40)
    found = capture_time(parse_exif("2026:12:07 11:59:29"), uploaded, BERLIN)
    assert (found.source, found.at) == (Source.UPLOAD, uploaded)


def test_no_zone_reads_the_machine_zone() -> None:
    capture = parse_exif("2026:12:07 12:59:29")
    expected = dt.datetime(2026, 12, 7, 12, 59, 29).astimezone().astimezone(dt.UTC)
    assert capture_time(capture, expected, None).at == expected


# --- read by validation from the open image -------------------------------------------------------
def test_validation_reads_date_time_original_from_the_exif_ifd() -> None:
    data = jpeg_with_exif(
        {DATE_TIME_ORIGINAL: "2026:12:07 12:59:29", SUBSEC_TIME_ORIGINAL: "5",
         OFFSET_TIME_ORIGINAL: "+01:00"}
    )  # fmt: skip
    result = validate_image_bytes(data, ImageLimits())
    assert result.ok
    assert result.exif == ExifCapture(
        dt.datetime(2026, 12, 7, 12, 59, 29, 500000), dt.timedelta(hours=1)
    )


def test_validation_reads_a_date_time_original_written_in_ifd0() -> None:
    data = jpeg_with_exif({DATE_TIME_ORIGINAL: "2026:12:07 12:59:29"}, in_ifd0=True)
    assert validate_image_bytes(data).exif == ExifCapture(dt.datetime(2026, 12, 7, 12, 59, 29))


def test_validation_without_exif_has_none() -> None:
    assert validate_image_bytes(jpeg_with_exif()).exif is None


def test_a_broken_exif_block_is_no_capture_time_and_no_refusal() -> None:
    data = jpeg_with_exif({DATE_TIME_ORIGINAL: "2026:12:07 12:59:29"})
    start = data.index(b"Exif\x00\x00") + 6
    broken = data[:start] + b"\xde\xad\xbe\xef" * 4 + data[start + 16 :]
    result = validate_image_bytes(broken)
    assert result.ok
    assert result.exif is None


def test_exif_capture_never_raises() -> None:
    class Broken:
        def getexif(self) -> None:
            raise SyntaxError("bad tiff")

    assert exif_capture(Broken()) is None


# --- what a batch's times are ---------------------------------------------------------------------
def test_a_scene_spans_the_capture_times_not_the_processing_times() -> None:
    processed = TAKEN + dt.timedelta(hours=1)  # one detector batch: one processing time
    detections = [
        DetectionSummary(
            detection_id=index,
            object_type="person",
            confidence=0.9,
            detected_at=processed,
            image=f"/cams/porch/{index}.jpg",
            captured_at=TAKEN + dt.timedelta(seconds=10 * index),
        )
        for index in range(3)
    ]
    old_row = DetectionSummary(
        detection_id=9, object_type="person", confidence=0.9, detected_at=TAKEN, image="/x.jpg"
    )
    assert scene.span_seconds(detections) == 20.0
    assert old_row.happened_at == TAKEN  # no capture time: the processing time stands
    assert detections[1].happened_at == TAKEN + dt.timedelta(seconds=10)
