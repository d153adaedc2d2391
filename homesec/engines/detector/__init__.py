"""Object detectors behind one small interface; see :mod:`homesec.engines.detector.base`.

Importing this package loads no model code: torch and transformers are imported by the RT-DETR
engine only, so the test engines and the factory's choice cost nothing.
"""

from homesec.engines.detector.base import DetectorEngine, DetectorError, ModelNotFound
from homesec.engines.detector.factory import create_detector

__all__ = ["DetectorEngine", "DetectorError", "ModelNotFound", "create_detector"]
