"""The precision guard's comparison, on hand-made detections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from homesec.contract.analysis import BoundingBox, Detection
from homesec.policy.detection_agreement import (
    CHECK_BUDGET_SECONDS,
    CHECK_IMAGES,
    MIN_CHECKED_IMAGES,
    RULES_VERSION,
    UNCHECKED_MAX_AGE,
    VERDICT_MAX_AGE,
    ImageAgreement,
    Outcome,
    PrecisionVerdict,
    check_threshold,
    compare_image,
    decide,
    iou,
    pick_sample,
    recheck_note,
    still_valid,
)

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
T = 0.5


def det(kind: str, score: float, x: int = 100, y: int = 100, w: int = 50, h: int = 120):
    return Detection(object_type=kind, confidence=score, bbox=BoundingBox(x, y, w, h))


def compare(reference, candidate, threshold=T):
    return compare_image("cam/a.jpg", reference, candidate, threshold=threshold)


def test_iou():
    a = BoundingBox(0, 0, 10, 10)
    assert iou(a, a) == 1.0
    assert iou(a, BoundingBox(5, 0, 10, 10)) == pytest.approx(50 / 150)
    assert iou(a, BoundingBox(20, 20, 5, 5)) == 0.0
    assert iou(BoundingBox(0, 0, 0, 0), BoundingBox(0, 0, 0, 0)) == 0.0


def test_check_threshold_is_a_margin_below():
    assert check_threshold(0.5) == pytest.approx(0.45)
    assert check_threshold(0.02) == 0.0


def test_identical_detections_agree():
    found = [det("person", 0.9), det("car", 0.7, x=400)]
    result = compare(found, list(found))
    assert result.agrees and result.matched == 2
    assert (result.reference_count, result.candidate_count) == (2, 2)


def test_small_score_and_box_differences_agree():
    # One pixel off in a 50x120 box: IoU ~0.96.
    result = compare([det("person", 0.81)], [det("person", 0.78, x=101, y=99)])
    assert result.agrees


def test_a_score_moved_beyond_the_margin_disagrees():
    result = compare([det("person", 0.81)], [det("person", 0.70)])
    assert result.problems == ("person 0.81 scored 0.70",)


def test_score_differences_below_the_threshold_do_not_matter():
    assert compare([det("person", 0.46)], [det("person", 0.30)], threshold=T).agrees


def test_a_missing_and_an_extra_object():
    result = compare([det("person", 0.9), det("dog", 0.6, x=300)], [det("person", 0.9)])
    assert result.problems == ("missing dog 0.60",)
    result = compare([det("person", 0.9)], [det("person", 0.9), det("car", 0.55, x=500)])
    assert result.problems == ("extra car 0.55",)


def test_the_same_place_but_another_class_is_missing_and_extra():
    result = compare([det("dog", 0.8)], [det("cat", 0.8)])
    assert result.problems == ("missing dog 0.80", "extra cat 0.80")


def test_a_box_that_moved_is_one_problem():
    # 10 px right in a 50 px wide box: IoU 40/60 = 0.67, below 0.9 but clearly the same object.
    result = compare([det("person", 0.8)], [det("person", 0.8, x=110)])
    assert result.problems == ("person 0.80 moved (IoU 0.67)",)


def test_near_the_threshold_a_partner_below_it_is_tolerated():
    # bf16 scores it 0.49: below the house's threshold, but found at the check threshold.
    assert compare([det("person", 0.52)], [det("person", 0.49)]).agrees
    # An object only one precision found, below the threshold: neither would store it.
    assert compare([det("person", 0.47)], []).agrees
    assert compare([], [det("person", 0.48)]).agrees
    # At or above the threshold without a partner even at the check threshold: a real miss.
    assert compare([det("person", 0.5)], []).problems == ("missing person 0.50",)


def test_each_candidate_detection_pairs_once():
    # Two people at the same spot in f32, one in bf16: one is missing.
    result = compare([det("person", 0.9), det("person", 0.8)], [det("person", 0.9)])
    assert result.matched == 1
    assert result.problems == ("missing person 0.80",)


def agreement(name: str, problems=(), found: int = 2) -> ImageAgreement:
    return ImageAgreement(name, found, found, found, tuple(problems))


def test_the_verdict_agrees_when_every_image_agrees():
    verdict = decide([agreement("a"), agreement("b", found=0)], threshold=T, now=NOW)
    assert verdict.outcome is Outcome.AGREES and verdict.agrees and verdict.decided
    assert verdict.text == "checked: bf16 agrees with f32 on 2 images"
    assert verdict.checked_at == NOW and verdict.threshold == T


def test_one_disagreeing_image_is_enough_to_refuse():
    images = [agreement(f"cam/{i}.jpg") for i in range(19)]
    images.append(agreement("cam/x.jpg", ["missing person 0.81", "extra car 0.60", "dog moved"]))
    images.append(agreement("cam/y.jpg", ["missing person 0.66"]))
    verdict = decide(images, threshold=T, now=NOW)
    assert verdict.outcome is Outcome.DISAGREES and not verdict.agrees and verdict.decided
    assert verdict.disagreeing == 2 and verdict.images == 21
    assert verdict.text == (
        "f32: bf16 disagreed on 2 of 21 images (missing person 0.81 in cam/x.jpg; "
        "extra car 0.60 in cam/x.jpg; 2 more)"
    )


def test_no_images_or_nothing_found_is_unchecked():
    verdict = decide([], threshold=T, now=NOW)
    assert verdict.outcome is Outcome.UNCHECKED and not verdict.decided and not verdict.agrees
    assert verdict.text == "unchecked: no images yet"
    verdict = decide([agreement("a", found=0)], threshold=T, now=NOW)
    assert verdict.outcome is Outcome.UNCHECKED
    assert verdict.text == "unchecked: f32 found nothing at the threshold on 1 image"


def test_a_saved_verdict_round_trips_and_expires():
    verdict = decide([agreement("a")], threshold=T, now=NOW)
    again = msgspec.json.decode(msgspec.json.encode(verdict), type=PrecisionVerdict)
    assert again == verdict
    assert still_valid(again, threshold=T, now=NOW + timedelta(days=1))
    assert not still_valid(again, threshold=T, now=NOW + VERDICT_MAX_AGE)
    assert not still_valid(again, threshold=0.6, now=NOW)  # another threshold
    assert not still_valid(again, threshold=T, now=NOW - timedelta(days=1))  # clock went back
    older_rules = msgspec.structs.replace(again, rules=RULES_VERSION - 1)
    assert not still_valid(older_rules, threshold=T, now=NOW)
    unchecked = decide([], threshold=T, now=NOW)
    assert not still_valid(unchecked, threshold=T, now=NOW, available=CHECK_IMAGES)


def test_an_open_verdict_stands_a_day_or_until_a_full_sample_exists():
    nothing_yet = decide([], threshold=T, now=NOW)
    assert nothing_yet.offered == 0
    assert still_valid(nothing_yet, threshold=T, now=NOW + timedelta(hours=23), available=5)
    assert not still_valid(nothing_yet, threshold=T, now=NOW + UNCHECKED_MAX_AGE, available=5)
    assert not still_valid(nothing_yet, threshold=T, now=NOW, available=CHECK_IMAGES)
    assert not still_valid(nothing_yet, threshold=0.6, now=NOW)  # another threshold
    assert recheck_note(nothing_yet) == (
        f"as of 2026-05-01 12:00 UTC; checked again after a day or at {CHECK_IMAGES} uploads"
    )
    # Nothing found on a full sample: more uploads would not make it fuller, only the day.
    empty = [agreement(f"{i}", found=0) for i in range(CHECK_IMAGES)]
    nothing_found = decide(empty, threshold=T, now=NOW)
    assert nothing_found.outcome is Outcome.UNCHECKED and nothing_found.offered == CHECK_IMAGES
    assert still_valid(nothing_found, threshold=T, now=NOW, available=CHECK_IMAGES)
    assert not still_valid(nothing_found, threshold=T, now=NOW + UNCHECKED_MAX_AGE)
    assert recheck_note(nothing_found) == "as of 2026-05-01 12:00 UTC; checked again after a day"


def test_out_of_time_with_too_few_images_decides_nothing():
    images = [agreement(f"{i}") for i in range(MIN_CHECKED_IMAGES - 1)]
    verdict = decide(images, threshold=T, now=NOW, offered=20, out_of_time=True)
    assert verdict.outcome is Outcome.UNCHECKED and not verdict.decided
    assert verdict.images == MIN_CHECKED_IMAGES - 1 and verdict.offered == 20
    assert verdict.text == (
        f"unchecked: not enough checked ({MIN_CHECKED_IMAGES - 1} of 20 images in the "
        f"{CHECK_BUDGET_SECONDS:.0f} s budget; {MIN_CHECKED_IMAGES} needed)"
    )
    # Within the budget the same images would have decided.
    assert decide(images, threshold=T, now=NOW).outcome is Outcome.AGREES


def test_out_of_time_with_enough_images_decides_on_them_and_says_so():
    images = [agreement(f"{i}") for i in range(MIN_CHECKED_IMAGES)]
    verdict = decide(images, threshold=T, now=NOW, offered=20, out_of_time=True)
    assert verdict.outcome is Outcome.AGREES and verdict.images == MIN_CHECKED_IMAGES
    assert verdict.text == (
        f"checked: bf16 agrees with f32 on {MIN_CHECKED_IMAGES} images "
        f"({MIN_CHECKED_IMAGES} of 20 compared in the {CHECK_BUDGET_SECONDS:.0f} s budget)"
    )
    images[0] = agreement("cam/x.jpg", ["missing person 0.81"])
    refused = decide(images, threshold=T, now=NOW, offered=20, out_of_time=True)
    assert refused.outcome is Outcome.DISAGREES
    assert refused.text.startswith(f"f32: bf16 disagreed on 1 of {MIN_CHECKED_IMAGES} images (")


def test_the_sample_takes_each_cameras_newest_in_turn():
    files = [("street", f"street/{i}.jpg", 1000.0 + i) for i in range(10)]
    files += [("yard", "yard/old.jpg", 5.0), ("yard", "yard/new.jpg", 6.0)]
    picked = [path for _, path, _ in pick_sample(files, 5)]
    assert picked == [
        "street/9.jpg",
        "yard/new.jpg",
        "street/8.jpg",
        "yard/old.jpg",
        "street/7.jpg",
    ]
    assert pick_sample(files, 100) and len(pick_sample(files, 100)) == 12
    assert pick_sample([], 5) == []
