"""homesec's SQLAlchemy 2.0 ORM: one module per table of the data-model contract.

Importing this package registers every table on ``Base.metadata``, which Alembic's env.py and
the relationships between modules rely on. ORM objects never leave the data layer.
"""

from homesec.models.activity_baseline import ActivityBaseline
from homesec.models.alert import AlertRow
from homesec.models.alert_cursor import AlertCursor
from homesec.models.alert_rule import AlertRuleRow
from homesec.models.api_key import APIKey
from homesec.models.base import Base
from homesec.models.camera import Camera
from homesec.models.camera_account import CameraAccount
from homesec.models.camera_problem import CameraProblem
from homesec.models.camera_tamper import CameraTamper
from homesec.models.camera_zone import CameraZoneRow
from homesec.models.class_baseline import ClassBaseline
from homesec.models.detection import Detection
from homesec.models.enums import CameraStatus, FeedbackKind, LogSource, RiskLevel, UploadStatus
from homesec.models.event import Event
from homesec.models.event_feedback import EventFeedback
from homesec.models.gpu_stats import GPUStats
from homesec.models.house_mode_change import HouseModeChange
from homesec.models.incident import Incident
from homesec.models.log import Log
from homesec.models.notify_channel import NotifyChannelRow
from homesec.models.timeline_look import TimelineLook
from homesec.models.upload import Upload

__all__ = [
    "APIKey",
    "ActivityBaseline",
    "AlertCursor",
    "AlertRow",
    "AlertRuleRow",
    "Base",
    "Camera",
    "CameraAccount",
    "CameraProblem",
    "CameraStatus",
    "CameraTamper",
    "CameraZoneRow",
    "ClassBaseline",
    "Detection",
    "Event",
    "EventFeedback",
    "FeedbackKind",
    "GPUStats",
    "HouseModeChange",
    "Incident",
    "Log",
    "LogSource",
    "NotifyChannelRow",
    "RiskLevel",
    "TimelineLook",
    "Upload",
    "UploadStatus",
]
