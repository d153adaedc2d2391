"""The actor registry: every planned kind has a class, and a spec's arguments fit that class's
constructor (a changed constructor fails here, not on a user's first start)."""

from __future__ import annotations

import inspect

import pytest

from homesec.actors.registry import BUILDERS, constructor
from homesec.actors.supervisor import Supervisor
from homesec.contract.reports import ActorSpec
from homesec.policy.actor_plan import ClusterFacts, plan_actors
from tests.support.actor_plan import ENDPOINTS
from tests.support.settings import make_settings


def _planned() -> list[ActorSpec]:
    cluster = ClusterFacts(gpus=1, gpu_node_ids=("a" * 56,))
    return plan_actors(
        make_settings(), ENDPOINTS, [("front", "/c/front")], cluster, llm_engine="rules"
    )


def _supervisor_spec(**tuning) -> ActorSpec:
    return ActorSpec(
        name="supervisor",
        kind="supervisor",
        settings=make_settings(),
        database_url=ENDPOINTS.database_url,
        redis_url=ENDPOINTS.redis_url,
        tuning=tuning,
    )


def test_every_kind_the_plan_makes_has_a_class_whose_constructor_takes_the_spec():
    specs = [*_planned(), _supervisor_spec()]
    assert {spec.kind for spec in specs} == set(BUILDERS)  # no kind unplanned, none unknown
    for spec in specs:
        made = constructor(spec)
        inspect.signature(made.cls).bind(*made.args, **made.kwargs)  # raises if it does not fit
        assert made.args[:4] == (spec.name, spec.settings, spec.database_url, spec.redis_url)
        assert made.cls.kind == spec.kind


def test_a_watcher_gets_its_camera_and_folder_and_tuning_goes_by_name():
    [watcher] = [spec for spec in _planned() if spec.kind == "watcher"]
    made = constructor(watcher)
    assert made.args[4:] == ("front", "/c/front")
    tuned = constructor(_supervisor_spec(cycle_seconds=0.5))
    assert tuned.cls is Supervisor and tuned.kwargs == {"cycle_seconds": 0.5}
    inspect.signature(tuned.cls).bind(*tuned.args, **tuned.kwargs)


def test_a_spec_missing_what_its_kind_needs_or_of_no_kind_is_refused():
    [watcher] = [spec for spec in _planned() if spec.kind == "watcher"]
    import msgspec

    with pytest.raises(ValueError, match="needs folder_path"):
        constructor(msgspec.structs.replace(watcher, folder_path=None))
    with pytest.raises(ValueError, match="no actor kind 'painter'"):
        constructor(msgspec.structs.replace(watcher, kind="painter"))
