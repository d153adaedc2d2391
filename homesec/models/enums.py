"""The stored vocabularies; defined in ``homesec.pipeline.enums`` so pure code shares them."""

from homesec.contract.enums import CameraStatus, LogSource, RiskLevel, UploadStatus

__all__ = ["CameraStatus", "LogSource", "RiskLevel", "UploadStatus"]
