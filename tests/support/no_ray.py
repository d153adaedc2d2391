"""For unit tests of pure code: any attempt to start, join or use Ray fails the test.

Pure code (``homesec/policy``, ``homesec/contract``) never needs Ray; a test of it that reached
Ray would be a test of something else, slow and flaky on a 2-core machine. Used as an autouse
fixture by the conftest of those test folders, as Ray Serve's unit tests do.
"""

from __future__ import annotations

import pytest

REFUSED = ("init", "get", "get_actor", "remote", "kill", "nodes", "cluster_resources")


@pytest.fixture(autouse=True)
def refuse_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    import ray

    def refuse(name: str):
        def refused(*_args: object, **_kwargs: object):
            raise AssertionError(f"a unit test of pure code called ray.{name}()")

        return refused

    for name in REFUSED:
        monkeypatch.setattr(ray, name, refuse(name))
