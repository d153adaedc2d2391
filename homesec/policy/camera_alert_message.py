"""The words of a camera alert (issue 23): which camera, what is wrong, since when. Pure.

The message is the same :class:`AlertMessage` every channel sends for an event, with kind
``camera``, no event and no risk; its attachment is the frame that raised it (none for
``offline``: there is no frame).
"""

from __future__ import annotations

import datetime as dt

from homesec.contract.alerts import AlertKind, AlertMessage
from homesec.contract.camera_problems import CameraProblemFacts, CameraProblemKind

WHAT_TO_DO: dict[str, str] = {
    CameraProblemKind.LENS_COVERED: "Its picture is blank: covered, sprayed or dark.",
    CameraProblemKind.VIEW_MOVED: "It no longer shows its usual scene: moved or knocked aside.",
    CameraProblemKind.BLURRED: "Its picture is far blurrier than usual: smeared or out of focus.",
    CameraProblemKind.OFFLINE: "It stopped uploading, far longer than its usual gap.",
}


def compose_camera(
    *,
    alert_id: int,
    idempotency_key: str,
    problem: CameraProblemFacts,
    link_base: str,
    zone: dt.tzinfo | None,
) -> AlertMessage:
    local = problem.started_at.astimezone(zone)
    link = f"{link_base.rstrip('/')}/cameras"
    lines = [
        f"{problem.camera_name}, {local:%a %d %b %H:%M:%S}: {problem.problem}.",
        WHAT_TO_DO.get(problem.problem, ""),
        problem.detail or "",
        link,
    ]
    return AlertMessage(
        alert_id=alert_id,
        kind=AlertKind.CAMERA,
        title=f"Camera {problem.camera_name}: {problem.problem}",
        body="\n".join(line for line in lines if line),
        camera_id=problem.camera_id,
        camera_name=problem.camera_name,
        local_time=local.isoformat(),
        risk_level=None,
        risk_score=None,
        summary=problem.problem,
        event_id=None,
        link=link,
        idempotency_key=idempotency_key,
        thumbnail_path=problem.image_path,
    )
