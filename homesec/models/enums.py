"""The stored vocabularies; defined in ``homesec.policy.enums`` so pure code shares them."""

from homesec.contract.enums import (
    CameraRole,
    CameraStatus,
    FeedbackKind,
    LogSource,
    RiskLevel,
    UploadStatus,
)

__all__ = ["CameraRole", "CameraStatus", "FeedbackKind", "LogSource", "RiskLevel", "UploadStatus"]
