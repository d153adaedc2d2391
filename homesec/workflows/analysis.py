"""The Analyst's work on one entry of ``analysis_queue``: a closed batch becomes a scored,
published event (docs/architecture.md, data flow step 5).

1. Read what the job needs in one session (:func:`homesec.store.analysis.read_analysis`). The
   batch already has an event (a redelivery): skip to step 4, the LLM is not asked again. None
   of its detections remain: acknowledge, no event. A batch rebuilt after Redis lost its data
   that took an older event's id while holding detections that event lacks: those are scored
   as the batch's continuation, under an id of their own.
2. Score it: the LLM engine behind a circuit breaker, each attempt's fate decided by
   :mod:`homesec.policy.llm_attempts`; then the weapon floor, whatever engine scored; the
   risk level comes from the score in code (``RISK_BANDS``).
   The batch's context carries the incident it joins so far (other cameras' visits within
   INCIDENT_WINDOW_SECONDS, :mod:`homesec.policy.incidents`): one engine call scores the visit
   on the whole story, no second call for the incident.
3. Write the event, place it in its incident and count the visit in the camera's baselines, in
   one transaction (:func:`homesec.store.analysis.record_event`).
4. Publish it on ``security_events`` unless already published, then acknowledge the entry.

Order: insert, publish, acknowledge. A crash between any two steps leaves the entry pending, so
it is delivered again and step 1 finds the event: if the crash came before the publish, the
marker is missing and the event is published now; if after, the marker is there and nothing is
sent twice (the marker and the message are set in one Lua script, see
:mod:`homesec.store.event_channel`). Acknowledging before publishing would lose the live message
to a crash between the two, with nothing left to deliver the entry again.

LLM failures never yield a made-up score. A failed call (server down, timeout, garbage answer,
anything the engine raises) or an attempt refused by the open breaker counts as a failed attempt
of the job, retried with quick backoff (``retry_base_delay``), sharing ``MAX_RETRIES`` with any
other failure of the job. An open breaker refuses at once rather than holding jobs until the LLM
is back: an alert must not wait for an outage to end. Once the attempts are spent the rules
engine scores the batch and its ``reasoning`` says why
(:func:`homesec.engines.llm.rules.fallback_assessment`); the event is written, never
dead-lettered for the LLM's sake.

An LLM that ignores the answer's schema (the start-up probe's finding, or a probe made again
before a batch) leaves every event to the rules engine from then on, said in the log and in
:attr:`Analysis.unfit`.

PostgreSQL or Redis being away raises, for the shell to wait it out; the entry is handled again
with no attempt counted. Other failures (a batch the engine cannot score, a malformed entry) go
the stream's way: retries spaced by ``RETRY_BASE_SECONDS``, then ``dlq:analysis_queue``.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import time

import msgspec
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from homesec.contract import keys
from homesec.contract.analysis import AnalysisContext, RiskAssessment, ScoredBy
from homesec.contract.jobs import AnalysisJob
from homesec.contract.reports import Problem
from homesec.engines.llm import (
    LlmEngine,
    LlmError,
    LlmIgnoresSchema,
    LlmUnavailable,
    ProbedLlmEngine,
    scored_by,
)
from homesec.engines.llm.rules import RULES_SCORER, RulesEngine, fallback_assessment
from homesec.policy.analysis_context import analysis_context
from homesec.policy.llm_attempts import Step, after_failure, before_call
from homesec.policy.retry import CircuitBreaker, RetryStep, describe_error
from homesec.policy.risk import risk_level
from homesec.policy.scoring import apply_weapon_floor
from homesec.policy.text import shorten
from homesec.settings import Settings, local_zone
from homesec.store.analysis import (
    AlreadyWritten,
    IncidentRules,
    NothingLeft,
    read_analysis,
    record_event,
)
from homesec.store.event_channel import publish_event_once
from homesec.store.outages import as_outage
from homesec.store.streams import StreamConsumer, StreamEntry
from homesec.store.telemetry import record_latency

log = logging.getLogger("homesec.analyst")

LATENCY_STAGE = "analysis"


@dataclasses.dataclass(frozen=True)
class Handled:
    """What one entry came to, for the shell's metrics and health."""

    # The camera and risk level of the event this call wrote; None: it wrote none.
    written: tuple[str, str] | None = None
    llm_seconds: float | None = None  # how long the engine took to score it
    error: Exception | None = None  # the job's own failure: retried, or dead-lettered


class Analysis:
    """One analyst's engine, its breaker, and the handling of entries; connections and the
    consumer are passed per call (the actor opens them)."""

    def __init__(
        self,
        name: str,
        settings: Settings,
        engine: LlmEngine,
        breaker: CircuitBreaker,
        counters: collections.Counter[str],
        *,
        retry_base_delay: float,
    ) -> None:
        self.name = name
        self.engine: LlmEngine | None = engine
        # None for the rules engine, which cannot be down.
        self.breaker: CircuitBreaker | None = None if engine.name == "rules" else breaker
        self.last_llm_error: str | None = None
        self.unfit: Problem | None = None  # the probe found the LLM unfit to score
        self.counters = counters
        self.retry_base_delay = retry_base_delay
        self.zone = local_zone(settings)
        self.half_life_days = settings.baseline_half_life_days
        self.risk_bands = settings.risk_bands
        self.configured_model = settings.llm_model
        self.incident_rules = IncidentRules(
            window_seconds=settings.incident_window_seconds,
            zone=self.zone,
            bands=settings.risk_bands,
        )

    # --- the engine -----------------------------------------------------------------------------
    async def probe(self) -> None:
        """Ask the LLM once how it takes the answer's schema; never waits for a server that is
        away (its engine probes again before the next batch)."""
        engine = self.engine
        if not isinstance(engine, ProbedLlmEngine):
            return
        try:
            found = await engine.probe()
        except LlmIgnoresSchema as exc:
            await self._drop_unfit(exc)
        except LlmError as exc:
            self.last_llm_error = describe_error(exc)
            log.warning(
                "%s: the %s LLM did not answer the start-up probe (%s); it is probed again "
                "before the next batch",
                self.name,
                engine.name,
                exc,
            )
        else:
            log.info(
                "%s: the %s LLM takes the answer's schema as %s", self.name, engine.name, found
            )

    async def aclose(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            await engine.aclose()

    async def _drop_unfit(self, error: LlmIgnoresSchema) -> None:
        """Score with the rules engine from now on: an LLM whose answer no schema constrains is
        not trusted with a score."""
        assert self.engine is not None
        unfit, self.engine, self.breaker = self.engine, RulesEngine(), None
        self.unfit = Problem(
            component=self.name,
            summary=shorten(f"events are scored by the rules engine: {error}"),
            remedy=(
                "serve the model with structured output (llama.cpp's llama-server, "
                "llama-cpp-python's server, vLLM, Ollama), or set LLM_ENGINE=rules; then "
                "restart homesec"
            ),
            since=time.time(),
        )
        log.error("%s: %s; events are scored by the rules engine", self.name, error)
        await unfit.aclose()

    # --- one entry ------------------------------------------------------------------------------
    async def handle(
        self,
        consumer: StreamConsumer,
        entry: StreamEntry,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
    ) -> Handled:
        """Analyse one entry and settle it (acknowledged, retry scheduled or dead-lettered).
        Raises only for PostgreSQL or Redis being away (a ``DependencyDown``)."""
        try:
            job = msgspec.json.decode(entry.payload, type=AnalysisJob)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            # No analysis job: no retry can fix it.
            await consumer.dead_letter(entry, f"not an analysis job: {exc}", 1, time.time())
            self.counters["dead_letters"] += 1
            log.error("entry %s is not an analysis job (%s): dead-lettered", entry.entry_id, exc)
            return Handled(error=exc)
        try:
            return await self._analyse(consumer, entry, job, sessions, redis)
        except Exception as exc:  # PostgreSQL or Redis: the stream's retries, then its DLQ
            outage = as_outage(exc)
            if outage is not None:
                raise outage from exc  # not the batch's fault: it waits for the dependency
            await self._failed(consumer, entry, job, exc)
            return Handled(error=exc)

    async def _analyse(
        self,
        consumer: StreamConsumer,
        entry: StreamEntry,
        job: AnalysisJob,
        sessions: async_sessionmaker[AsyncSession],
        redis: aioredis.Redis,
    ) -> Handled:
        read = await read_analysis(
            sessions, job, self.zone, self.half_life_days, self.incident_rules.window_seconds
        )
        for event in read.earlier:  # a rebuilt batch's older events (see read_analysis)
            await publish_event_once(redis, event)
        if isinstance(read, NothingLeft):
            self.counters["empty_batches"] += 1
            log.info(
                "batch %s of %s: none of its %d detections remain; no event",
                job.batch_id,
                job.camera_id,
                len(job.detection_ids),
            )
            await consumer.ack([entry.entry_id])
            return Handled()
        handled = Handled()
        if isinstance(read, AlreadyWritten):
            self.counters["redeliveries"] += 1
            event = read.event
            log.info("batch %s already has event %d", job.batch_id, event.id)
        else:
            if read.job.batch_id != job.batch_id:
                self.counters["continuations"] += 1
                log.warning(
                    "batch %s of %s holds %d detections its event lacks (rebuilt after Redis "
                    "lost its data): analysed as batch %s",
                    job.batch_id,
                    job.camera_id,
                    len(read.job.detection_ids),
                    read.job.batch_id,
                )
            job = read.job
            context = analysis_context(
                job,
                read.batch.camera_name,
                read.batch.detections,
                self.zone,
                camera_role=read.batch.camera_role,
                baseline=read.baseline,
                calibration=read.calibration,
                house_mode=read.house_mode,
                stationary=read.stationary,
                earlier_visits=read.incident_so_far,
                incident_window_seconds=round(self.incident_rules.window_seconds),
            )
            scored = await self._assess(consumer, entry, job, context, redis)
            if scored is None:
                return handled  # a retry is scheduled; the entry stays pending
            assessment, scorer, seconds = scored
            # After any engine: no LLM can argue a person with a knife down to "low".
            assessment = apply_weapon_floor(context, assessment, self.risk_bands)
            level = risk_level(assessment.risk_score, self.risk_bands)
            event, inserted = await record_event(
                sessions,
                job,
                read,
                assessment,
                level,
                scorer,
                self.half_life_days,
                self.incident_rules,
            )
            handled = Handled(
                written=(job.camera_id, level) if inserted else None, llm_seconds=seconds
            )
            if inserted:
                self.counters["events"] += 1
                log.info(
                    "event %d for batch %s of %s: risk %d (%s)",
                    event.id,
                    job.batch_id,
                    job.camera_id,
                    assessment.risk_score,
                    level,
                )
        await publish_event_once(redis, event)
        await consumer.ack([entry.entry_id])
        return handled

    async def _assess(
        self,
        consumer: StreamConsumer,
        entry: StreamEntry,
        job: AnalysisJob,
        context: AnalysisContext,
        redis: aioredis.Redis,
    ) -> tuple[RiskAssessment, ScoredBy, float | None] | None:
        """The engine's assessment, who made it and how long it took; None when the job must
        wait for a retry; the rules engine's, saying why, once the job's attempts are spent."""
        assert self.engine is not None
        if self.breaker is None:
            return await self._scored(context, redis)
        spent = consumer.retries.attempts(entry)
        attempt = before_call(
            self.breaker, spent, consumer.retries.max_retries, time.time(), self.last_llm_error
        )
        self.breaker = attempt.breaker
        if attempt.step is Step.ASK:
            try:
                scored = await self._scored(context, redis)
            except LlmIgnoresSchema as exc:  # a probe made again before this batch found it
                await self._drop_unfit(exc)
                return await self._scored(context, redis)
            except Exception as exc:  # whatever the engine raises, the LLM gave no answer
                self.breaker = self.breaker.on_failure(time.time())
                self.last_llm_error = describe_error(exc)
                self.counters["llm_failures"] += 1
                error: BaseException = exc
                step = after_failure(spent, consumer.retries.max_retries)
            else:
                self.breaker = self.breaker.on_success()
                return scored
        else:
            assert attempt.refusal is not None
            if attempt.refused_by_breaker:
                self.counters["breaker_refusals"] += 1
            error = LlmUnavailable(attempt.refusal)
            step = attempt.step
        if step is Step.RETRY:
            # Quick retries: an alert must not wait long for an LLM that is away.
            consumer.retries.failed(entry, time.time(), base_delay=self.retry_base_delay)
            log.warning("batch %s: LLM attempt %d failed (%s)", job.batch_id, spent + 1, error)
            return None
        # The entry keeps its attempt count, so a database failure from here on dead-letters it.
        self.counters["fallbacks"] += 1
        log.warning(
            "batch %s: no LLM assessment after %d attempts (%s); scoring it by the rules engine",
            job.batch_id,
            attempt.attempts,
            error,
        )
        return fallback_assessment(context, attempt.attempts, error), RULES_SCORER, None

    async def _scored(
        self, context: AnalysisContext, redis: aioredis.Redis
    ) -> tuple[RiskAssessment, ScoredBy, float]:
        """The engine in use scores ``context``; its time goes to the stage's latency samples."""
        engine = self.engine
        assert engine is not None
        started = time.monotonic()
        assessment = await engine.assess(context)
        seconds = time.monotonic() - started
        try:
            await record_latency(redis, LATENCY_STAGE, seconds)
        except (RedisError, OSError) as exc:  # a lost sample must not fail the batch
            log.debug("latency sample lost: %s", exc)
        return assessment, scored_by(engine, self.configured_model), seconds

    async def _failed(
        self, consumer: StreamConsumer, entry: StreamEntry, job: AnalysisJob, exc: Exception
    ) -> None:
        step = await consumer.failed(entry, exc)
        if step is RetryStep.DEAD_LETTER:
            self.counters["dead_letters"] += 1
            log.error(
                "batch %s failed for good, sent to %s: %s",
                job.batch_id,
                keys.dlq(consumer.stream),
                exc,
            )
        else:
            log.warning("batch %s failed, will retry: %s", job.batch_id, exc)
