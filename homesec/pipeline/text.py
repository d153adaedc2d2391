"""Text for people: cut to a length without cutting a word in half."""

from __future__ import annotations

# A problem's one-line summary in health, the dashboard and `homesec up`'s terminal.
SUMMARY_CHARS = 300
ELLIPSIS = "…"


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` whole when it fits in ``limit`` characters; else cut at the last word boundary
    that leaves room for "…" (mid-word only when a single word is longer than ``limit``)."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ELLIPSIS), 0)
    cut = text[:room]
    boundary = max(cut.rfind(" "), cut.rfind("\n"))
    if boundary > room // 2:
        cut = cut[:boundary]
    return cut.rstrip(" \n\t,;:(") + ELLIPSIS
