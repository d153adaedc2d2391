"""The Analyst: turns each closed batch on ``analysis_queue`` into a scored, published Event.

A shell (docs/architecture.md, data flow step 5). The work of one entry, read, score, write,
publish, acknowledge, is :mod:`homesec.workflows.analysis`; what to do with each LLM attempt
(ask, retry, fall back to the rules engine) is :mod:`homesec.policy.llm_attempts`; the rules'
verdict when no LLM gave one is :func:`homesec.engines.llm.rules.fallback_assessment`. This
module keeps what is Ray's: building the engine in the actor's own process, the main loop that
reads one entry at a time, waiting out PostgreSQL or Redis being away, health and metrics.

Before the first batch the analyst probes an engine that needs it (the OpenAI-compatible one)
once: which dialect of structured output its server speaks. A server that ignores the answer's
schema leaves every event to the rules engine, said in the log and in health; one that does not
answer yet does not hold up start-up: the engine probes again before the next batch, behind the
breaker like any call.

PostgreSQL or Redis being away is no failure of the batch: the analyst holds the entry, waits
until the dependency answers again (probing with capped backoff, reported in health) and then
handles the same entry, with no attempt counted.
"""

from __future__ import annotations

import time

from homesec.actors import metrics
from homesec.actors.base import ServiceActor
from homesec.contract import keys
from homesec.contract.reports import Problem
from homesec.engines.llm import LlmEngine, ProbedLlmEngine, create_llm_engine
from homesec.policy.retry import BreakerState, CircuitBreaker
from homesec.policy.text import shorten
from homesec.settings import Settings
from homesec.store.outages import as_outage
from homesec.store.streams import StreamConsumer, StreamEntry
from homesec.workflows.analysis import LATENCY_STAGE, Analysis

# LLM retries wait 1-2 s, then 2-4, 4-8: with MAX_RETRIES=3 a batch waits 7-14 s of backoff
# (plus its LLM calls) before the rules engine scores it.
DEFAULT_RETRY_BASE_SECONDS = 2.0
READ_BLOCK_MS = 2000
# Beyond one LLM call (``LLM_TIMEOUT_SECONDS``), so a slow answer is not taken for a dead analyst
# whose entries another replica should claim.
CLAIM_IDLE_MARGIN_SECONDS = 60.0


class Analyst(ServiceActor):
    kind = "analyst"

    def __init__(
        self,
        name: str,
        settings: Settings,
        database_url: str,
        redis_url: str,
        engine: LlmEngine | None = None,
        *,
        breaker: CircuitBreaker | None = None,
        retry_base_delay: float = DEFAULT_RETRY_BASE_SECONDS,
    ) -> None:
        super().__init__(name, settings, database_url, redis_url)
        self._engine_given = engine  # None: built from the settings when the main loop starts
        self._breaker = breaker or CircuitBreaker()
        self._retry_base_delay = retry_base_delay
        self._analysis: Analysis | None = None  # once the main loop has built the engine
        self._consumer: StreamConsumer | None = None

    async def main(self) -> None:
        analysis = self._analysis
        if analysis is None or analysis.engine is None:
            # Built in the actor's own process: vLLM loads onto the GPU share Ray gave it.
            engine = self._engine_given or create_llm_engine(self.settings)
            self._engine_given = None  # the analysis owns it from now on
            analysis = self._analysis = Analysis(
                self.name,
                self.settings,
                engine,
                self._breaker,
                self.counters,
                retry_base_delay=self._retry_base_delay,
            )
        await analysis.probe()
        consumer = self._consumer = StreamConsumer(
            self.redis,
            keys.ANALYSIS_QUEUE,
            keys.ANALYST_GROUP,
            self.name,
            max_retries=self.settings.max_retries,
            claim_idle_ms=int(
                (self.settings.llm_timeout_seconds + CLAIM_IDLE_MARGIN_SECONDS) * 1000
            ),
            retry_base_delay=self.settings.retry_base_seconds,
        )
        assert analysis.engine is not None
        self.log.info("%s: analysing with the %s engine", self.name, analysis.engine.name)
        held: StreamEntry | None = None  # the entry at hand, kept across an outage
        while not self.stopping:
            try:
                if held is None:
                    # One at a time: the LLM answers one batch at a time anyway, and entries
                    # read but not started would only age towards being claimed elsewhere.
                    entries = await consumer.read(count=1, block_ms=READ_BLOCK_MS)
                    held = entries[0] if entries else None
                if held is not None:
                    handled = await analysis.handle(consumer, held, self.sessions, self.redis)
                    held = None
                    if handled.error is not None:
                        self.record_error(handled.error)
                    if handled.llm_seconds is not None:
                        metrics.stage_latency(LATENCY_STAGE, handled.llm_seconds)
                    if handled.written is not None:
                        metrics.event_written(*handled.written)
            except Exception as exc:
                outage = as_outage(exc)
                if outage is None:
                    raise
                # PostgreSQL or Redis away: the entry waits, and no attempt is counted.
                await self.wait_out(outage)

    # --- lifecycle and reporting ------------------------------------------------------------
    async def close(self) -> None:
        try:
            if self._analysis is not None:
                await self._analysis.aclose()
            elif self._engine_given is not None:
                await self._engine_given.aclose()
        finally:
            await super().close()

    def health_problems(self) -> list[Problem]:
        problems = super().health_problems()
        analysis = self._analysis
        if analysis is None:
            return problems
        # Read once: health runs on its own thread while the main loop may change them.
        breaker, engine, unfit = analysis.breaker, analysis.engine, analysis.unfit
        if unfit is not None:
            problems.append(unfit)
        if (
            breaker is not None
            and engine is not None
            and breaker.status(time.time()) is not BreakerState.CLOSED
        ):
            problems.append(
                Problem(
                    component=self.name,
                    summary=shorten(
                        f"the {engine.name} LLM does not answer ({analysis.last_llm_error}); "
                        "events are scored by the rules engine meanwhile"
                    ),
                    remedy=(
                        "start the LLM server (or check LLM_URL and LLM_MODEL); new events "
                        "use it again as soon as it answers"
                    ),
                )
            )
        return problems

    def health_detail(self) -> dict[str, str]:
        analysis = self._analysis
        engine = analysis.engine if analysis is not None else None
        if analysis is None or engine is None:
            return {"engine": "not built"}
        breaker = analysis.breaker
        detail = {"engine": engine.name}
        detail["breaker"] = breaker.status(time.time()).value if breaker else "none (rules engine)"
        if isinstance(engine, ProbedLlmEngine):
            detail["structured_output"] = engine.structured_output or "not probed yet"
        if analysis.unfit is not None:
            detail["llm_unfit"] = analysis.unfit.summary
        if self._consumer is not None:
            detail["retrying"] = str(len(self._consumer.retries))
        if analysis.last_llm_error:
            detail["last_llm_error"] = analysis.last_llm_error
        return detail
