"""Text for people: cut to a length without cutting a word in half."""

from __future__ import annotations

# A problem's one-line summary in health, the dashboard and `homesec up`'s terminal.
SUMMARY_CHARS = 300
ELLIPSIS = "…"


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text`` whole when it fits in ``limit`` characters; else cut at the last word boundary
    that leaves room for "…", however early it is (mid-word only when the first word alone is
    longer than ``limit``): a long path or URL goes whole or not at all."""
    if len(text) <= limit:
        return text
    room = max(limit - len(ELLIPSIS), 0)
    cut = text[:room]
    if not text[room].isspace():  # the cut falls inside a word: back to the word's start
        boundary = max(cut.rfind(" "), cut.rfind("\n"), cut.rfind("\t"))
        if boundary > 0:
            cut = cut[:boundary]
    return cut.rstrip(" \n\t,;:(") + ELLIPSIS
