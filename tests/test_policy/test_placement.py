"""Whether any live Ray node could hold an actor, and how the report says what it waits for."""

from __future__ import annotations

from homesec.policy.placement import demand_of, no_node_for

HEAD = {"CPU": 2.0, "memory": 1e9, "node:10.0.0.1": 1.0}
CAMERAS = {"CPU": 2.0, "camera_folders": 1.0}
GPU = {"CPU": 2.0, "GPU": 1.0}


def test_an_actor_asks_only_for_what_it_names():
    assert demand_of(1, 0.5, {}) == {"CPU": 1, "GPU": 0.5}
    assert demand_of(0, 0, {"camera_folders": 0.01}) == {"camera_folders": 0.01}


def test_a_node_with_the_resources_is_enough_even_when_busy():
    # Totals, not what is free: a full node is Ray's to wait for, not the owner's to fix.
    assert no_node_for({"CPU": 1, "GPU": 0.5}, [HEAD, CAMERAS, GPU]) is None


def test_the_gpu_node_gone_names_the_gpu():
    why = no_node_for({"CPU": 1, "GPU": 0.5}, [HEAD, CAMERAS])
    assert why == "waiting for a Ray node with CPU 1, GPU 0.5: no live node has GPU"


def test_the_camera_folders_node_gone_names_its_resource():
    why = no_node_for({"camera_folders": 0.01}, [HEAD, GPU])
    assert why == "waiting for a Ray node with camera_folders 0.01: no live node has camera_folders"


def test_too_small_nodes_are_told_apart_from_missing_resources():
    why = no_node_for({"CPU": 4, "GPU": 1}, [HEAD, GPU])
    assert why == "waiting for a Ray node with CPU 4, GPU 1: no live node has enough of CPU"


def test_no_node_at_all():
    assert no_node_for({"CPU": 1}, []) == "waiting for a Ray node with CPU 1: no node is alive"
