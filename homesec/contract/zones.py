"""A camera's zones: named polygons on its frame that watch or ignore what stands in them.

Coordinates are relative to the frame (0..1 from the left and from the top), so a zone drawn on
one snapshot holds for every resolution the camera uploads in. Checked by
:mod:`homesec.policy.zones`; stored by ``store/camera_zones.py``.
"""

from __future__ import annotations

import enum

import msgspec


class ZoneAction(enum.StrEnum):
    """What a zone does with an object whose footpoint it holds."""

    WATCH = "watch"  # counts it, and names the zone (the rules, the prompt, alert rules)
    IGNORE = "ignore"  # drops it when no watch zone holds it too (the street, a tree)


class Zone(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One zone of a camera. ``objects``: the classes it applies to (``car``, ``person`` ...);
    None: every class. For any other class the zone is as if it were not drawn."""

    name: str
    points: list[tuple[float, float]]
    action: ZoneAction
    objects: list[str] | None = None

    def applies_to(self, object_type: str) -> bool:
        return self.objects is None or object_type in self.objects
