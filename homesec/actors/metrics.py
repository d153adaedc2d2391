"""Ray metrics of the pipeline: detections, events, queue depths and stage latencies.

Ray's metrics agent on each node exports them for Prometheus (names start ``homesec_``), so
every actor of the cluster is seen without homesec serving metrics itself. A metric is created
on first use in the process that records it, and only under Ray, which ``ray.util.metrics``
needs; elsewhere (plain-class tests, tools) the helpers do nothing.

Recording is best effort: a metric that cannot be recorded must never fail a pipeline step.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, NamedTuple

from homesec.actors import ray_gateway

log = logging.getLogger(__name__)

DETECTIONS_STORED = "homesec_detections_stored"
EVENTS_WRITTEN = "homesec_events_written"
QUEUE_DEPTH = "homesec_queue_depth"
STAGE_LATENCY = "homesec_stage_latency_seconds"

# From a fast detector batch to a slow LLM on CPU.
LATENCY_BOUNDARIES_SECONDS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]


class _Definition(NamedTuple):
    kind: str  # Counter | Gauge | Histogram (ray.util.metrics' classes)
    description: str
    tag_keys: tuple[str, ...]


_DEFINITIONS = {
    DETECTIONS_STORED: _Definition("Counter", "Detections stored", ("camera_id",)),
    EVENTS_WRITTEN: _Definition("Counter", "Events written", ("camera_id", "risk_level")),
    QUEUE_DEPTH: _Definition("Gauge", "Entries waiting in a queue", ("queue",)),
    STAGE_LATENCY: _Definition("Histogram", "Seconds one pipeline stage took", ("stage",)),
}

_created: dict[str, Any] = {}
_create_lock = threading.Lock()  # helpers run on an actor's loop and in its worker threads


# --- what the actors call ------------------------------------------------------------------
def detections_stored(camera_id: str, count: int) -> None:
    if count > 0:  # a Ray counter only goes up
        _record(DETECTIONS_STORED, "inc", count, camera_id=camera_id)


def event_written(camera_id: str, risk_level: str) -> None:
    _record(EVENTS_WRITTEN, "inc", 1, camera_id=camera_id, risk_level=risk_level)


def queue_depth(queue: str, depth: int) -> None:
    _record(QUEUE_DEPTH, "set", depth, queue=queue)


def stage_latency(stage: str, seconds: float) -> None:
    _record(STAGE_LATENCY, "observe", seconds, stage=stage)


# --- plumbing --------------------------------------------------------------------------------
def _record(name: str, method: str, value: float, **tags: str) -> None:
    try:
        metric = _metric(name)
        if metric is not None:
            getattr(metric, method)(value, tags={key: str(tag) for key, tag in tags.items()})
    except Exception as exc:
        log.debug("metric %s not recorded: %s", name, exc)


def _metric(name: str) -> Any | None:
    """The process's metric of that name, created on first use; None outside Ray."""
    if not ray_gateway.under_ray():
        return None
    metric = _created.get(name)
    if metric is None:
        with _create_lock:
            metric = _created.get(name)
            if metric is None:
                metric = _created[name] = _create(name)
    return metric


def _create(name: str) -> Any:
    definition = _DEFINITIONS[name]
    return ray_gateway.new_metric(
        definition.kind,
        name,
        description=definition.description,
        tag_keys=definition.tag_keys,
        boundaries=LATENCY_BOUNDARIES_SECONDS if definition.kind == "Histogram" else None,
    )
