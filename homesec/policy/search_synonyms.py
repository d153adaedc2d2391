"""Words a search widens: "deliveries" should find "a courier left a parcel", which says
neither. English stemming makes "deliveries" and "delivery" one word; it cannot know that a
parcel is a delivery. These few groups say what homesec's summaries (the rules' and an LLM's)
write for what a person asks.

Each word on the left, as searched, also finds the words on its right (one way: searching
"parcel" does not find every delivery). Plain data; ``http/queries/event_search.py`` applies
it to the parsed query with PostgreSQL's ``ts_rewrite``, so phrases, ``-word`` and stemming
stay as they were.
"""

from __future__ import annotations

SYNONYMS: dict[str, tuple[str, ...]] = {
    "delivery": ("parcel", "package", "courier", "postman", "mail"),
    "vehicle": ("car", "truck", "van", "bus", "motorcycle"),
    "animal": ("dog", "cat", "bird", "fox"),
    "people": ("person",),
    "someone": ("person",),
    "bike": ("bicycle",),
    "intruder": ("person",),
}
