"""Which class each kind of actor is, and how a spec becomes its constructor's arguments.

The plan (:mod:`homesec.policy.actor_plan`) says kinds, names and resources; this module is
the only place that knows the classes, so the pure floor names nothing above it, and a changed
constructor fails a test (``tests/test_actors/test_registry.py`` binds every kind's arguments
to its class's signature), not the first start of a user's box.

Each builder imports its class when called: a process that creates watchers never imports the
detector's engines, and the supervisor, itself an actor of this registry, is imported lazily.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from homesec.contract.reports import ActorSpec


class Constructor(NamedTuple):
    """A class and the arguments to make one actor of it."""

    cls: type
    args: tuple[Any, ...]
    kwargs: dict[str, Any]


def _common(spec: ActorSpec) -> tuple[Any, ...]:
    return (spec.name, spec.settings, spec.database_url, spec.redis_url)


def _required(spec: ActorSpec, field: str) -> str:
    value = getattr(spec, field)
    if not value:
        raise ValueError(f"a {spec.kind} actor needs {field} (spec {spec.name!r})")
    return value


def _watcher(spec: ActorSpec) -> Constructor:
    from homesec.actors.camera_watcher import CameraWatcher

    camera, folder = _required(spec, "camera_id"), _required(spec, "folder_path")
    return Constructor(CameraWatcher, (*_common(spec), camera, folder), dict(spec.tuning))


def _batcher(spec: ActorSpec) -> Constructor:
    from homesec.actors.batcher import Batcher

    return Constructor(Batcher, (*_common(spec), _required(spec, "camera_id")), dict(spec.tuning))


def _detector(spec: ActorSpec) -> Constructor:
    from homesec.actors.detector import Detector

    return Constructor(Detector, _common(spec), dict(spec.tuning))


def _analyst(spec: ActorSpec) -> Constructor:
    from homesec.actors.analyst import Analyst

    return Constructor(Analyst, _common(spec), dict(spec.tuning))


def _gpu_monitor(spec: ActorSpec) -> Constructor:
    from homesec.actors.gpu_monitor import GpuMonitor

    return Constructor(GpuMonitor, _common(spec), dict(spec.tuning))


def _janitor(spec: ActorSpec) -> Constructor:
    from homesec.actors.janitor import Janitor

    return Constructor(Janitor, _common(spec), dict(spec.tuning))


def _notifier(spec: ActorSpec) -> Constructor:
    from homesec.actors.notifier import Notifier

    return Constructor(Notifier, _common(spec), dict(spec.tuning))


def _ftp_server(spec: ActorSpec) -> Constructor:
    from homesec.actors.ftp_server import FtpServerActor

    return Constructor(FtpServerActor, _common(spec), dict(spec.tuning))


def _supervisor(spec: ActorSpec) -> Constructor:
    from homesec.actors.supervisor import Supervisor

    return Constructor(Supervisor, _common(spec), dict(spec.tuning))


BUILDERS: dict[str, Callable[[ActorSpec], Constructor]] = {
    "watcher": _watcher,
    "batcher": _batcher,
    "detector": _detector,
    "analyst": _analyst,
    "gpu_monitor": _gpu_monitor,
    "janitor": _janitor,
    "notifier": _notifier,
    "ftp_server": _ftp_server,
    "supervisor": _supervisor,
}


def constructor(spec: ActorSpec) -> Constructor:
    """The class of ``spec.kind`` and its arguments; ValueError for an unknown kind."""
    builder = BUILDERS.get(spec.kind)
    if builder is None:
        raise ValueError(f"no actor kind {spec.kind!r} (known: {', '.join(sorted(BUILDERS))})")
    return builder(spec)
