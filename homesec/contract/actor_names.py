"""Ray names of homesec's actors, all in the :data:`NAMESPACE` namespace, and the names Ray options
use (the health concurrency group, the camera folders' custom resource)."""

from __future__ import annotations

NAMESPACE = "homesec"
# Each actor's health() answers on this concurrency group, so a busy actor still answers.
HEALTH_GROUP = "health"
# Label on the node that holds the camera folders (ray_cluster.yaml); watchers go there.
CAMERA_FOLDERS_RESOURCE = "homesec_camera_folders"

SUPERVISOR = "supervisor"
JANITOR = "janitor"
FTP_SERVER = "ftp_server"
NOTIFIER = "notifier"


def watcher(camera_id: str) -> str:
    return f"watcher:{camera_id}"


def batcher(camera_id: str) -> str:
    return f"batcher:{camera_id}"


def detector(replica: int) -> str:
    return f"detector:{replica}"


def analyst(replica: int) -> str:
    return f"analyst:{replica}"


def gpu_monitor(node_id: str) -> str:
    return f"gpu_monitor:{node_id}"
