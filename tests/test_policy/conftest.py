"""Unit tests of pure code: no Ray (see tests/support/no_ray.py)."""

from tests.support.no_ray import refuse_ray

__all__ = ["refuse_ray"]
