"""Backfills against the whole pipeline on Ray: images the ledger does not know are ingested,
``--reprocess`` replaces detections instead of adding them, ``--reanalyze`` makes new events
and keeps the old; each run twice gives the same result."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import time
from pathlib import Path

import msgspec
import pytest
import ray
from sqlalchemy import delete, select

from homesec.contract import actor_names, keys
from homesec.contract.actor_names import HEALTH_GROUP, NAMESPACE
from homesec.contract.reports import SupervisorReport
from homesec.models import Detection, Upload
from homesec.ops.backfill import BackfillOptions, add_arguments, options_from, to_argv
from homesec.ops.backfill_run import run_backfill
from homesec.policy.backfill_plan import is_reanalysis_batch, reanalysis_batch_id
from homesec.policy.cameras import CameraFolder
from homesec.store.cameras import register_cameras
from tests.support.images import BLUE, GREY, RED, jpeg_bytes
from tests.support.live_pipeline import (
    e2e_settings,
    events_of,
    running_pipeline,
    unique_camera,
    uploads_by_status,
)
from tests.support.waiting import eventually

TWO_HOURS_AGO = time.time() - 7200


def test_options_travel_to_the_job_unchanged():
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = BackfillOptions(
        cameras=("porch", "drive"),
        since="2025-12-01",
        until="2025-12-23T08:00",
        reanalyze=True,
        run_id="llm2",
        dry_run=True,
        max_backlog=4,
    )
    assert options_from(parser.parse_args(to_argv(options))) == options
    assert to_argv(BackfillOptions()) == []
    with pytest.raises(SystemExit):  # one mode at a time
        parser.parse_args(["--reprocess", "--reanalyze"])
    rebuild = BackfillOptions(cameras=("porch",), rebuild_baselines=True)
    assert options_from(parser.parse_args(to_argv(rebuild))) == rebuild
    with pytest.raises(SystemExit):
        parser.parse_args(["--rebuild-baselines", "--reanalyze"])


def _write_images(folder: Path, colours: dict[str, tuple[int, int, int]]) -> dict[str, str]:
    """Images uploaded two hours ago; their paths by name."""
    folder.mkdir(parents=True)
    paths = {}
    for seed, (name, colour) in enumerate(colours.items()):
        path = folder / f"{name}.jpg"
        path.write_bytes(jpeg_bytes(colour, size=(320, 240), seed=seed))
        os.utime(path, (TWO_HOURS_AGO, TWO_HOURS_AGO))
        paths[name] = str(path)
    return paths


def _all_files(paths) -> bool:
    return all(Path(path).is_file() for path in paths)


async def _detections_by_path(sessions, camera: str) -> dict[str, list[int]]:
    async with sessions() as session:
        rows = await session.execute(
            select(Detection.file_path, Detection.id)
            .where(Detection.camera_id == camera)
            .order_by(Detection.id)
        )
        found: dict[str, list[int]] = {}
        for path, detection_id in rows.all():
            found.setdefault(path, []).append(detection_id)
        return found


async def _forget(sessions, paths: list[str]) -> None:
    """As if the ledger never saw these files: no row, no detections."""
    async with sessions.begin() as session:
        await session.execute(delete(Detection).where(Detection.file_path.in_(paths)))
        await session.execute(delete(Upload).where(Upload.file_path.in_(paths)))


@pytest.mark.ray
@pytest.mark.slow
async def test_unknown_images_are_ingested_and_reprocess_replaces_detections(
    ray_cluster, migrated_database_url, redis_url, redis_client, db_sessions, tmp_path
):
    settings = e2e_settings(tmp_path)
    camera = unique_camera("yard")
    paths = _write_images(
        settings.foscam_base_path / camera,
        {"person": RED, "car": BLUE, "nothing": GREY, "car2": BLUE},
    )
    expected = {paths["person"]: 1, paths["car"]: 1, paths["car2"]: 1}  # detections per image
    since = dt.datetime.fromtimestamp(TWO_HOURS_AGO - 600).isoformat(timespec="minutes")
    options = BackfillOptions(cameras=(camera,), since=since, max_backlog=2)
    lines: list[str] = []

    async def backfill(**changes):
        chosen = msgspec.structs.replace(options, **changes)
        return await run_backfill(
            chosen, settings, migrated_database_url, redis_url, say=lines.append, report_seconds=0.2
        )

    async with running_pipeline(settings, migrated_database_url, redis_url):

        async def all_done():
            return (await uploads_by_status(db_sessions, [camera])) == {"done": 4}

        await eventually(
            all_done, timeout=60, what="the watcher's scan to process every image", interval=0.25
        )
        original_events = [event.id for event in await events_of(db_sessions, [camera])]
        await _forget(db_sessions, [paths["nothing"], paths["car2"]])

        dry = await backfill(dry_run=True)
        assert dry.dry_run and dry.planned == 2
        assert any("2 to ingest" in line for line in lines), lines
        assert await uploads_by_status(db_sessions, [camera]) == {"done": 2}, (
            "a dry run changes nothing"
        )

        first = await backfill()
        assert first.outcomes == {"ingested": 2} and first.exit_code == 0
        assert await uploads_by_status(db_sessions, [camera]) == {"done": 4}
        detections = await _detections_by_path(db_sessions, camera)
        assert {path: len(ids) for path, ids in detections.items()} == expected
        assert lines[-1] == "backfill finished: 2 ingested; 1 detection stored for them"
        assert lines[-2].startswith("backfill: 2/2 done (100%), ")

        again = await backfill()
        assert again.planned == 0 and again.outcomes == {}
        assert await _detections_by_path(db_sessions, camera) == detections

        for _ in range(2):  # each reprocess replaces the detections: never more of them
            before = {d for ids in detections.values() for d in ids}
            result = await backfill(reprocess=True)
            assert result.outcomes == {"reprocessed": 4} and result.exit_code == 0
            detections = await _detections_by_path(db_sessions, camera)
            assert {path: len(ids) for path, ids in detections.items()} == expected
            assert before.isdisjoint(d for ids in detections.values() for d in ids)
            async with db_sessions() as session:
                thumbnails = (
                    await session.scalars(
                        select(Detection.thumbnail_path).where(Detection.camera_id == camera)
                    )
                ).all()
            assert thumbnails and _all_files(thumbnails)
            assert await uploads_by_status(db_sessions, [camera]) == {"done": 4}

    # The events made before are history: kept as they were, whatever was recomputed since.
    kept = {event.id for event in await events_of(db_sessions, [camera])}
    assert set(original_events) <= kept


class _IdleSupervisor:
    """A supervisor whose pipeline has no detector: nothing consumes the queue."""

    async def report(self) -> SupervisorReport:
        return SupervisorReport(actors=[], checked_at=dt.datetime.now(dt.UTC))


@pytest.mark.ray
async def test_a_backfill_waits_for_room_and_gives_up_when_nothing_moves(
    ray_cluster, migrated_database_url, redis_url, redis_client, db_sessions, tmp_path
):
    settings = e2e_settings(tmp_path)
    camera = unique_camera("shed")
    folder = settings.foscam_base_path / camera
    _write_images(folder, {"a": BLUE, "b": BLUE, "c": RED})
    await register_cameras(db_sessions, [CameraFolder(camera, camera, str(folder))])
    supervisor = (
        ray.remote(concurrency_groups={HEALTH_GROUP: 1})(_IdleSupervisor)
        .options(name=actor_names.SUPERVISOR, namespace=NAMESPACE, num_cpus=0)
        .remote()
    )
    lines: list[str] = []
    try:
        result = await run_backfill(
            BackfillOptions(cameras=(camera,), max_backlog=2),
            settings,
            migrated_database_url,
            redis_url,
            say=lines.append,
            report_seconds=0.2,
            stall_seconds=1.5,
        )
    finally:
        ray.kill(supervisor)
    assert result.stalled and result.exit_code == 1 and result.outcomes == {}
    assert "backfill: no detector is alive yet (none); the jobs wait for one" in lines
    assert any("waiting for room in detection_queue" in line for line in lines), lines
    assert any(line.startswith("backfill: no job finished for 2 s") for line in lines), lines
    # Two went on the queue; the third waited for room and was never queued.
    assert await redis_client.xlen(keys.DETECTION_QUEUE) == 2
    assert await uploads_by_status(db_sessions, [camera]) == {"queued": 2}


@pytest.mark.ray
@pytest.mark.slow
async def test_reanalyze_makes_new_events_once_per_run_id_and_keeps_the_old(
    ray_cluster, migrated_database_url, redis_url, redis_client, db_sessions, tmp_path
):
    settings = e2e_settings(tmp_path)
    camera = unique_camera("gate")
    _write_images(settings.foscam_base_path / camera, {"person": RED, "car": BLUE})
    options = BackfillOptions(cameras=(camera,), reanalyze=True)
    lines: list[str] = []

    async with running_pipeline(settings, migrated_database_url, redis_url):

        async def two_events():  # the person's fast path, and the batch of both
            events = await events_of(db_sessions, [camera])
            return events if len(events) == 2 else None

        originals = await eventually(
            two_events, timeout=60, what="the fast-path and batch events", interval=0.25
        )
        first = await run_backfill(
            options, settings, migrated_database_url, redis_url, say=lines.append
        )
        assert first.outcomes == {"event made": 2}, lines
        again = await run_backfill(
            options, settings, migrated_database_url, redis_url, say=lines.append
        )
        assert again.planned == 0, lines

    events = await events_of(db_sessions, [camera])
    assert len(events) == 4
    by_batch = {event.batch_id: event for event in events}
    for original in originals:
        kept = by_batch[original.batch_id]
        assert (kept.risk_score, kept.summary, kept.reasoning) == (
            original.risk_score,
            original.summary,
            original.reasoning,
        )
        new = by_batch[reanalysis_batch_id(original.batch_id, "1")]
        assert json.loads(new.detection_ids) == json.loads(original.detection_ids)
        assert new.is_fast_path == original.is_fast_path
        assert new.started_at == original.started_at
    assert sum(is_reanalysis_batch(event.batch_id) for event in events) == 2
