"""The stored vocabularies; defined in ``homesec.pipeline.enums`` so pure code shares them."""

from homesec.contract.enums import (
    CameraRole,
    CameraStatus,
    FeedbackKind,
    LogSource,
    RiskLevel,
    UploadStatus,
)

__all__ = ["CameraRole", "CameraStatus", "FeedbackKind", "LogSource", "RiskLevel", "UploadStatus"]
