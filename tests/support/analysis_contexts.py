"""A dozen varied analysis contexts (cameras, hours, classes, crowds, the fast path) for asking a
real LLM server: the tests check every answer against the schema, bench/llm_server.py times them.
"""

from __future__ import annotations

import datetime as dt

from homesec.contract.analysis import AnalysisContext, BoundingBox, DetectionSummary

BERLIN = dt.timezone(dt.timedelta(hours=1))

# camera name, local time, fast path, detections as (class, confidence, seconds later, box)
_SITUATIONS: list[tuple[str, tuple[int, int], bool, list[tuple[str, float, int]]]] = [
    ("Front Door", (2, 40), True, [("person", 0.93, 0)]),
    ("Front Door", (14, 5), False, [("person", 0.88, 0), ("person", 0.86, 6), ("truck", 0.7, 6)]),
    ("Backyard", (23, 15), False, [("person", 0.81, 0), ("person", 0.79, 0), ("person", 0.6, 4)]),
    ("Backyard", (6, 50), False, [("bear", 0.74, 0), ("bear", 0.71, 10)]),
    ("Street", (8, 30), False, [("car", 0.9, 0), ("bicycle", 0.66, 3), ("person", 0.58, 3)]),
    ("Street", (17, 45), False, [("person", 0.7, s) for s in range(0, 40, 4)]),
    ("Garage", (3, 10), False, [("car", 0.83, 0), ("person", 0.77, 12)]),
    ("Garage", (12, 0), False, [("cat", 0.55, 0)]),
    ("Driveway", (19, 20), False, [("person", 0.91, 0), ("backpack", 0.62, 0), ("dog", 0.8, 2)]),
    ("Driveway", (1, 5), True, [("person", 0.95, 0), ("knife", 0.57, 0)]),
    ("Side Gate", (21, 55), False, [("person", 0.64, 0), ("baseball bat", 0.52, 1)]),
    ("Kitchen", (10, 30), False, [("person", 0.97, 0), ("dog", 0.92, 0), ("cup", 0.5, 0)]),
]


def varied_contexts() -> list[AnalysisContext]:
    contexts = []
    for index, (camera, (hour, minute), fast, seen) in enumerate(_SITUATIONS):
        start = dt.datetime(2024, 6, 3 + index % 7, hour, minute, tzinfo=BERLIN)
        detections = [
            DetectionSummary(
                detection_id=index * 100 + number,
                object_type=kind,
                confidence=confidence,
                detected_at=start + dt.timedelta(seconds=later),
                bbox=BoundingBox(40 * number, 60, 120, 240),
            )
            for number, (kind, confidence, later) in enumerate(seen)
        ]
        contexts.append(
            AnalysisContext(
                camera_id=camera.lower().replace(" ", "_"),
                camera_name=camera,
                local_time=start,
                detections=detections,
                is_fast_path=fast,
            )
        )
    return contexts
