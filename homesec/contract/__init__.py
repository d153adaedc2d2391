"""The bottom floor: what every other part of homesec may import, and what they agree on.

Redis names and keys (:mod:`.keys`), Ray actor names (:mod:`.actor_names`), the closed
vocabularies stored as strings (:mod:`.enums`), and the msgspec structures that cross a queue,
the ``security_events`` channel, an actor call or an engine (:mod:`.jobs`, :mod:`.messages`,
:mod:`.reports`, :mod:`.analysis`), with the error root (:mod:`.errors`).

It imports nothing of homesec but :mod:`homesec.settings`, and no I/O library: lint
(``homesec/contract/ruff.toml``) and ``tests/test_layers.py`` fail the build otherwise.
"""
