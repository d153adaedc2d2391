"""What the tests of the actor plan (tests/test_policy) and of the actors it names
(tests/test_actors) share: the servers a plan points its actors at."""

from __future__ import annotations

from homesec.policy.actor_plan import Endpoints

# Addresses only: planning reaches no server, and the registry's tests construct no actor.
ENDPOINTS = Endpoints("postgresql+asyncpg://u@h/d", "redis://h:6379/0")
