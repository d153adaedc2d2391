"""The Detector's work on a real PostgreSQL and Redis, with its edges as recording doubles: an
engine whose top-left pixel names the kind, Batchers that record each hand-over (or are away),
a tally of what the actor would report; and the reads the tests check. Shared by
tests/test_workflows/test_detection.py and test_detection_zones.py (the ``house`` fixture, in
that package's conftest, puts them together)."""

from __future__ import annotations

import collections

from PIL import Image
from sqlalchemy import select

from homesec.contract.analysis import BoundingBox, Detection
from homesec.contract.errors import BatcherUnavailable
from homesec.contract.jobs import StoredDetection
from homesec.models import Detection as DetectionRow
from homesec.models import Upload
from tests.support.images import BLUE, RED

GREEN = (0, 255, 0)  # the engine cannot take it
KINDS = {RED: "person", BLUE: "car"}


class Engine:
    """One forward pass per call: a box of the kind the top-left pixel names."""

    def __init__(self) -> None:
        self.batch_sizes: list[int] = []

    async def detect(self, images: list[Image.Image]) -> list[list[Detection]]:
        self.batch_sizes.append(len(images))
        colours = [image.getpixel((0, 0)) for image in images]
        if any(_near(colour, GREEN) for colour in colours):
            raise RuntimeError("the engine cannot take this image")
        return [
            [Detection(kind, 0.9, BoundingBox(0, 0, 40, 40))]
            for colour in colours
            for kind in [next(k for c, k in KINDS.items() if _near(colour, c))]
        ]


def _near(colour, target) -> bool:  # JPEG moves colours a little
    return all(abs(a - b) < 40 for a, b in zip(colour, target, strict=True))


class Directory:
    """Records each hand-over; away while ``away`` is set."""

    def __init__(self) -> None:
        self.away = False
        self.handed: list[tuple[str, list[StoredDetection]]] = []

    async def add(self, camera_id: str, detections: list[StoredDetection]) -> None:
        if self.away:
            raise BatcherUnavailable("batcher restarting")
        self.handed.append((camera_id, detections))


class Tally:
    def __init__(self) -> None:
        self.counters: collections.Counter[str] = collections.Counter()
        self.errors: list[str] = []
        self.stored: list[tuple[str, int]] = []

    def record_error(self, error: BaseException | str) -> None:
        self.errors.append(str(error))

    def detections_stored(self, camera_id: str, count: int) -> None:
        self.stored.append((camera_id, count))


async def rows(sessions) -> list[DetectionRow]:
    async with sessions() as session:
        return list((await session.scalars(select(DetectionRow).order_by(DetectionRow.id))).all())


async def statuses(sessions) -> dict[str, str]:
    async with sessions() as session:
        return {u.file_path: u.status for u in (await session.scalars(select(Upload))).all()}
