"""Where homesec's actors run, as Ray's state API says: run on a host of the test cluster
(``python -m tests.cluster.probe ADDRESS``); prints one JSON object. The actors and the nodes'
resources come from the Ray dashboard's state API (``list_actors``, ``list_nodes``), the list an
owner watching actor health in the dashboard sees.

It talks to Ray directly, as an operator's tool would: it checks homesec's placement from the
outside, so it must not go through homesec's own gateway.
"""

from __future__ import annotations

import json
import sys

import ray
from ray.util.state import list_actors, list_nodes


def main(address: str) -> None:
    ray.init(address=address, namespace="homesec", logging_level="ERROR", log_to_driver=False)
    nodes = {
        node["NodeID"]: {"address": node["NodeManagerAddress"], "resources": node["Resources"]}
        for node in ray.nodes()
        if node["Alive"]
    }
    actors = [
        {
            "name": actor.name,
            "state": actor.state,
            "node_id": actor.node_id,
            "address": nodes.get(actor.node_id, {}).get("address"),
            "required_resources": getattr(actor, "required_resources", None),
        }
        for actor in list_actors(
            # The GCS's address, always: without one Ray would look for "the" cluster in
            # /tmp/ray, which names whichever cluster another user of the machine started last.
            address=address,
            filters=[("ray_namespace", "=", "homesec")],
            detail=True,
        )
        if actor.state == "ALIVE"
    ]
    dashboard_nodes = {
        node.node_ip: node.resources_total
        for node in list_nodes(address=address, detail=True)
        if node.state == "ALIVE"
    }
    print(json.dumps({"nodes": nodes, "actors": actors, "dashboard_nodes": dashboard_nodes}))
    ray.shutdown()


if __name__ == "__main__":
    main(sys.argv[1])
