"""The Ray metric helpers: nothing at all outside Ray, real Ray metrics inside an actor.

Recording failures are swallowed by design (a metric must never fail a pipeline step) and
logged at DEBUG, so the tests watch that log to see that nothing went wrong.
"""

from __future__ import annotations

import logging

import pytest

from homesec.actors import metrics


def record_one_of_each() -> None:
    metrics.detections_stored("front_door", 3)
    metrics.detections_stored("front_door", 0)  # nothing found: nothing to count
    metrics.event_written("front_door", "high")
    metrics.queue_depth("detection_queue", 12)
    metrics.stage_latency("detection", 0.042)


class ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_outside_ray_the_helpers_do_nothing(monkeypatch, caplog):
    import ray
    from ray.util import metrics as ray_metrics

    def must_not_be_made(*_args, **_kwargs):
        raise AssertionError("a Ray metric was made outside Ray")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    for kind in ("Counter", "Gauge", "Histogram"):
        monkeypatch.setattr(ray_metrics, kind, must_not_be_made)
    caplog.set_level(logging.DEBUG, logger=metrics.__name__)

    record_one_of_each()

    assert caplog.records == []  # no metric made, so none failed either


class MetricsUser:
    """A tiny actor recording each metric, as the pipeline's actors will."""

    def record(self) -> dict:
        from ray.util import metrics as ray_metrics

        failures = ListHandler()
        logging.getLogger(metrics.__name__).addHandler(failures)
        logging.getLogger(metrics.__name__).setLevel(logging.DEBUG)
        record_one_of_each()
        record_one_of_each()  # the second time, the metrics already exist
        return {
            "failures": failures.messages,
            # Private on purpose: only a test needs to see which metrics were made.
            "kinds": {
                name: type(metric).__name__
                for name, metric in metrics._created.items()
                if isinstance(metric, ray_metrics.Metric)
            },
        }


@pytest.mark.ray
def test_under_ray_an_actor_records_them(ray_cluster):
    import ray

    actor = ray.remote(num_cpus=0)(MetricsUser).remote()
    try:
        result = ray.get(actor.record.remote(), timeout=60)
    finally:
        ray.kill(actor)
    assert result["failures"] == []
    assert result["kinds"] == {
        metrics.DETECTIONS_STORED: "Counter",
        metrics.EVENTS_WRITTEN: "Counter",
        metrics.QUEUE_DEPTH: "Gauge",
        metrics.STAGE_LATENCY: "Histogram",
    }
