"""Who supervises the Supervisor: `homesec up` keeps it alive from outside.

The Supervisor is detached and restarted by Ray when its process dies (``kill -9`` of its
worker): Ray resubmits its main loop and it adopts the live actors by name. Killed through Ray
for good (``ray.kill``), it is gone; then :meth:`SupervisorKeeper.check`, which `homesec up`'s
main thread calls every few seconds, creates it again from the same spec. Either way the new
Supervisor starts from PostgreSQL and the running actors, so nothing it knew is lost.
"""

from __future__ import annotations

import logging
from typing import Any

from homesec.actors import ray_gateway
from homesec.contract.reports import ActorSpec

log = logging.getLogger("homesec.up")

# How long the Supervisor's own stop may take, then how long its `run` answer may take to come.
STOP_SECONDS = 30.0
LOOP_ANSWER_SECONDS = 5.0


class SupervisorKeeper:
    def __init__(self, spec: ActorSpec) -> None:
        self.spec = spec
        self.handle, main_loop = ray_gateway.spawn(spec)
        self.main_loops: list[Any] = [main_loop]
        self.recreated = 0

    def check(self) -> bool:
        """Create the Supervisor again if it is gone; True when it had to."""
        handle = ray_gateway.lookup(self.spec.name)
        if handle is not None:
            self.handle = handle
            return False
        log.warning("the supervisor is gone; starting it again")
        self.handle, main_loop = ray_gateway.spawn(self.spec)
        self.main_loops = [main_loop]
        self.recreated += 1
        return True

    def retire(self) -> None:
        """Stop the Supervisor's own loop, wait for its `run` answer, then kill it."""
        ray_gateway.retire_blocking(
            self.handle,
            self.main_loops,
            stop_timeout=STOP_SECONDS,
            loop_timeout=LOOP_ANSWER_SECONDS,
        )
