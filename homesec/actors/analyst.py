"""The Analyst: turns each closed batch on ``analysis_queue`` into a scored, published Event.

For each entry (docs/architecture.md, data flow step 5):

1. If the batch already has an event (a redelivery), skip to step 5: the LLM is not asked again.
2. Load the camera and the batch's detections that still exist; none left: acknowledge, no event.
3. Ask the LLM engine (behind a circuit breaker) for a score; the risk level comes from the
   score in code (``RISK_BANDS``).
4. Write the event: ``INSERT ... ON CONFLICT (batch_id) DO NOTHING``.
5. Publish it on ``security_events`` unless already published, then acknowledge the entry.

Order: insert, publish, acknowledge. A crash between any two steps leaves the entry pending, so
it is delivered again and step 1 finds the event: if the crash came before the publish, the
marker is missing and the event is published now; if after, the marker is there and nothing is
sent twice (the marker and the message are set in one Lua script, see
:mod:`homesec.store.event_channel`).
Acknowledging before publishing would lose the live message to a crash between the two, with
nothing left to deliver the entry again.

Before the first batch the analyst probes an engine that needs it (the OpenAI-compatible one)
once: which dialect of structured output its server speaks. A server that ignores the answer's
schema leaves every event to the rules engine, said in the log and in health; one that does not
answer yet does not hold up start-up: the engine probes again before the next batch, behind the
breaker like any call.

LLM failures never yield a made-up score. A failed call (server down, timeout, garbage answer,
anything the engine raises) or an attempt refused by the open breaker counts as a failed attempt
of the job, which is retried with exponential backoff, sharing ``MAX_RETRIES`` with any other
failure of the job. An open breaker refuses at once rather than holding jobs until the LLM is
back: an alert must not wait for an outage to end, and the rules engine exists for that. After
``1 + MAX_RETRIES`` attempts the batch is scored by the rules engine and its ``reasoning`` says
why; the event is written, never dead-lettered for the LLM's sake. Attempts of analysts that
died mid-call count too (the entry's delivery count): a batch on which the model crashes the
process is scored by the rules once they are spent, not retried forever.

PostgreSQL or Redis being away is no failure of the batch: the analyst holds the entry, waits
until the dependency answers again (probing with capped backoff, reported in health) and then
handles the same entry, with no attempt counted. Other failures (a batch the rules engine cannot
score, a malformed entry) go the stream's way: retries spaced by ``RETRY_BASE_SECONDS``, then
``dlq:analysis_queue``.
"""

from __future__ import annotations

import datetime as dt
import time

import msgspec
from redis.exceptions import RedisError

from homesec.actors import metrics
from homesec.actors.base import ServiceActor
from homesec.contract import keys
from homesec.contract.analysis import (
    AnalysisContext,
    CameraBaseline,
    CameraCalibration,
    RiskAssessment,
    ScoredBy,
)
from homesec.contract.jobs import AnalysisJob
from homesec.contract.reports import Problem
from homesec.engines.llm import (
    LlmBadResponse,
    LlmEngine,
    LlmError,
    LlmIgnoresSchema,
    LlmUnavailable,
    ProbedLlmEngine,
    create_llm_engine,
)
from homesec.engines.llm.rules import RulesEngine, assess_by_rules
from homesec.pipeline.prompt import PROMPT_VERSION
from homesec.pipeline.retry import (
    BreakerState,
    CircuitBreaker,
    RetryStep,
    describe_error,
    next_step,
)
from homesec.pipeline.risk import risk_level
from homesec.pipeline.scene import kind_of
from homesec.pipeline.scoring import RULES_VERSION, apply_weapon_floor
from homesec.pipeline.text import shorten
from homesec.settings import Settings, local_zone
from homesec.store import baselines, event_feedback
from homesec.store.detections import StoredBatch, load_batch
from homesec.store.event_channel import publish_event_once
from homesec.store.events import find_event, insert_event
from homesec.store.outages import as_outage
from homesec.store.streams import StreamConsumer, StreamEntry
from homesec.store.telemetry import record_latency

LATENCY_STAGE = "analysis"
# LLM retries wait 1-2 s, then 2-4, 4-8: with MAX_RETRIES=3 a batch waits 7-14 s of backoff
# (plus its LLM calls) before the rules engine scores it.
DEFAULT_RETRY_BASE_SECONDS = 2.0
READ_BLOCK_MS = 2000
# Beyond one LLM call (``LLM_TIMEOUT_SECONDS``), so a slow answer is not taken for a dead analyst
# whose entries another replica should claim.
CLAIM_IDLE_MARGIN_SECONDS = 60.0
MAX_ERROR_CHARS_IN_REASONING = 300


def local_start(batch: StoredBatch, zone: dt.tzinfo | None) -> dt.datetime:
    return min(d.happened_at for d in batch.detections).astimezone(zone)


def analysis_context(
    job: AnalysisJob,
    batch: StoredBatch,
    zone: dt.tzinfo | None,
    baseline: CameraBaseline | None = None,
    calibration: CameraCalibration | None = None,
) -> AnalysisContext:
    """The engine's input. Its local time is when the batch's first picture was taken, not the
    clock's, so a batch analysed late (a backlog, an LLM outage) is judged by when it happened.
    A baseline without history is left out: the camera's role rules decide alone.
    ``calibration``: the owner's recent feedback on the camera's events."""
    return AnalysisContext(
        camera_id=job.camera_id,
        camera_name=batch.camera_name,
        local_time=local_start(batch, zone),
        detections=batch.detections,
        is_fast_path=job.is_fast_path,
        camera_role=batch.camera_role,
        baseline=baseline if baseline is not None and baseline.history_days > 0 else None,
        calibration=calibration,
    )


RULES_SCORER = ScoredBy(engine="rules", model=None, prompt_version=RULES_VERSION)


def fallback_assessment(
    context: AnalysisContext, attempts: int, error: BaseException
) -> RiskAssessment:
    """The rules engine's verdict, its reasoning led by why the LLM's is missing."""
    what = (
        "LLM gave no valid assessment" if isinstance(error, LlmBadResponse) else "LLM unavailable"
    )
    detail = describe_error(error)
    if len(detail) > MAX_ERROR_CHARS_IN_REASONING:
        detail = detail[: MAX_ERROR_CHARS_IN_REASONING - 1] + "…"
    rules = assess_by_rules(context)
    reasoning = (
        f"{what} after {attempts} attempts ({detail}); scored by the rules engine: "
        f"{rules.reasoning}"
    )
    return msgspec.structs.replace(rules, reasoning=reasoning)


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
        self._llm = engine  # None: built from the settings when the main loop starts
        self._breaker_template = breaker or CircuitBreaker()
        # The breaker in use; None while no engine is built and for the rules engine, which
        # cannot be down.
        self._breaker: CircuitBreaker | None = None
        self._last_llm_error: str | None = None
        self._llm_unfit: Problem | None = None  # the probe found the LLM unfit to score
        self._retry_base_delay = retry_base_delay
        self._zone = local_zone(settings)
        self._consumer: StreamConsumer | None = None

    async def main(self) -> None:
        if self._llm is None:
            # Built in the actor's own process: vLLM loads onto the GPU share Ray gave it.
            self._llm = create_llm_engine(self.settings)
        self._breaker = None if self._llm.name == "rules" else self._breaker_template
        await self._probe_llm()
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
        self.log.info("%s: analysing with the %s engine", self.name, self._llm.name)
        held: StreamEntry | None = None  # the entry at hand, kept across an outage
        while not self.stopping:
            try:
                if held is None:
                    # One at a time: the LLM answers one batch at a time anyway, and entries
                    # read but not started would only age towards being claimed elsewhere.
                    entries = await consumer.read(count=1, block_ms=READ_BLOCK_MS)
                    held = entries[0] if entries else None
                if held is not None:
                    await self._handle(consumer, held)
                    held = None
            except Exception as exc:
                outage = as_outage(exc)
                if outage is None:
                    raise
                # PostgreSQL or Redis away: the entry waits, and no attempt is counted.
                await self.wait_out(outage)

    # --- one entry ----------------------------------------------------------------------------
    async def _handle(self, consumer: StreamConsumer, entry: StreamEntry) -> None:
        try:
            job = msgspec.json.decode(entry.payload, type=AnalysisJob)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            await self._dead_letter_malformed(consumer, entry, exc)
            return
        try:
            await self._analyse(consumer, entry, job)
        except Exception as exc:  # PostgreSQL or Redis: the stream's retries, then its DLQ
            await self._failed(consumer, entry, job, exc)

    async def _analyse(
        self, consumer: StreamConsumer, entry: StreamEntry, job: AnalysisJob
    ) -> None:
        event = await find_event(self.sessions, job.batch_id)
        if event is not None:
            self.counters["redeliveries"] += 1
            self.log.info("batch %s already has event %d", job.batch_id, event.id)
        else:
            batch = await load_batch(self.sessions, job)
            if batch is None:
                self.counters["empty_batches"] += 1
                self.log.info(
                    "batch %s of %s: none of its %d detections remain; no event",
                    job.batch_id,
                    job.camera_id,
                    len(job.detection_ids),
                )
                await consumer.ack([entry.entry_id])
                return
            half_life = self.settings.baseline_half_life_days
            started = local_start(batch, self._zone)
            baseline = await baselines.load_baseline(
                self.sessions, job.camera_id, started, half_life
            )
            # The owner's feedback as of the batch's time, like the baseline.
            calibration = await event_feedback.load_calibration(
                self.sessions, job.camera_id, started
            )
            context = analysis_context(job, batch, self._zone, baseline, calibration)
            scored = await self._assess(consumer, entry, job, context)
            if scored is None:
                return  # a retry is scheduled; the entry stays pending
            assessment, scored_by = scored
            # After any engine: no LLM can argue a person with a knife down to "low".
            assessment = apply_weapon_floor(context, assessment, self.settings.risk_bands)
            level = risk_level(assessment.risk_score, self.settings.risk_bands)

            async def count_visit(session) -> None:
                if baselines.counts_as_visit(job.batch_id, job.is_fast_path):
                    kinds = {kind_of(d.object_type) for d in batch.detections}
                    await baselines.record_visit(session, job.camera_id, started, kinds, half_life)

            event, inserted = await insert_event(
                self.sessions,
                job,
                batch,
                assessment,
                level,
                scored_by=scored_by,
                also=count_visit,
            )
            if inserted:
                self.counters["events"] += 1
                metrics.event_written(job.camera_id, level)
                self.log.info(
                    "event %d for batch %s of %s: risk %d (%s)",
                    event.id,
                    job.batch_id,
                    job.camera_id,
                    assessment.risk_score,
                    level,
                )
        await publish_event_once(self.redis, event)
        await consumer.ack([entry.entry_id])

    async def _assess(
        self,
        consumer: StreamConsumer,
        entry: StreamEntry,
        job: AnalysisJob,
        context: AnalysisContext,
    ) -> tuple[RiskAssessment, ScoredBy] | None:
        """The engine's assessment and who made it; None when the job must wait for a retry;
        the rules engine's, saying why, once the job's attempts are spent."""
        assert self._llm is not None
        if self._breaker is None:
            return await self._timed_assess(context), self._scorer()
        spent = consumer.retries.attempts(entry)
        if spent > consumer.retries.max_retries:
            # Earlier deliveries spent the attempts without a word: the analyst died during
            # each, as it would if the model crashed on this very batch. Do not ask again.
            stopped = LlmUnavailable(f"the analyst stopped during {spent} earlier attempts")
            return self._fall_back(job, context, spent, stopped), RULES_SCORER
        allowed, self._breaker = self._breaker.admit(time.time())
        if allowed:
            try:
                assessment = await self._timed_assess(context)
            except LlmIgnoresSchema as exc:  # a probe made again before this batch found it
                await self._drop_unfit_llm(exc)
                return await self._timed_assess(context), self._scorer()
            except Exception as exc:  # whatever the engine raises, the LLM gave no answer
                self._breaker = self._breaker.on_failure(time.time())
                self._last_llm_error = describe_error(exc)
                self.counters["llm_failures"] += 1
                error: BaseException = exc
            else:
                self._breaker = self._breaker.on_success()
                return assessment, self._scorer()
        else:
            self.counters["breaker_refusals"] += 1
            error = LlmUnavailable(
                f"circuit breaker open after {self._breaker.consecutive_failures} consecutive "
                f"failures; last: {self._last_llm_error}"
            )
        if next_step(spent + 1, consumer.retries.max_retries) is RetryStep.RETRY:
            # Quick retries: an alert must not wait long for an LLM that is away.
            consumer.retries.failed(entry, time.time(), base_delay=self._retry_base_delay)
            self.log.warning("batch %s: LLM attempt %d failed (%s)", job.batch_id, spent + 1, error)
            return None
        # The entry keeps its attempt count, so a database failure from here on dead-letters it.
        return self._fall_back(job, context, spent + 1, error), RULES_SCORER

    def _scorer(self) -> ScoredBy:
        """Who the engine in use is: its name, model and prompt version (an engine may say;
        the LLM engines' model is LLM_MODEL, their prompt pipeline/prompt.py's)."""
        llm = self._llm
        assert llm is not None
        if llm.name == "rules":
            return RULES_SCORER
        model = getattr(llm, "model", None) or self.settings.llm_model
        version = getattr(llm, "prompt_version", None) or PROMPT_VERSION
        return ScoredBy(engine=llm.name, model=str(model), prompt_version=str(version))

    def _fall_back(
        self, job: AnalysisJob, context: AnalysisContext, attempts: int, error: BaseException
    ) -> RiskAssessment:
        self.counters["fallbacks"] += 1
        self.log.warning(
            "batch %s: no LLM assessment after %d attempts (%s); scoring it by the rules engine",
            job.batch_id,
            attempts,
            error,
        )
        return fallback_assessment(context, attempts, error)

    async def _probe_llm(self) -> None:
        """Ask the LLM once how it takes the answer's schema; never waits for a server that is
        away (its engine probes again before the next batch)."""
        llm = self._llm
        if not isinstance(llm, ProbedLlmEngine):
            return
        try:
            found = await llm.probe()
        except LlmIgnoresSchema as exc:
            await self._drop_unfit_llm(exc)
        except LlmError as exc:
            self._last_llm_error = describe_error(exc)
            self.log.warning(
                "%s: the %s LLM did not answer the start-up probe (%s); it is probed again "
                "before the next batch",
                self.name,
                llm.name,
                exc,
            )
        else:
            self.log.info(
                "%s: the %s LLM takes the answer's schema as %s", self.name, llm.name, found
            )

    async def _drop_unfit_llm(self, error: LlmIgnoresSchema) -> None:
        """Score with the rules engine from now on: an LLM whose answer no schema constrains is
        not trusted with a score."""
        assert self._llm is not None
        unfit, self._llm, self._breaker = self._llm, RulesEngine(), None
        self._llm_unfit = Problem(
            component=self.name,
            summary=shorten(f"events are scored by the rules engine: {error}"),
            remedy=(
                "serve the model with structured output (llama.cpp's llama-server, "
                "llama-cpp-python's server, vLLM, Ollama), or set LLM_ENGINE=rules; then "
                "restart homesec"
            ),
            since=time.time(),
        )
        self.log.error("%s: %s; events are scored by the rules engine", self.name, error)
        await unfit.aclose()

    async def _timed_assess(self, context: AnalysisContext) -> RiskAssessment:
        assert self._llm is not None
        started = time.monotonic()
        assessment = await self._llm.assess(context)
        metrics.stage_latency(LATENCY_STAGE, time.monotonic() - started)
        try:
            await record_latency(self.redis, LATENCY_STAGE, time.monotonic() - started)
        except (RedisError, OSError) as exc:  # a lost sample must not fail the batch
            self.log.debug("latency sample lost: %s", exc)
        return assessment

    async def _failed(
        self, consumer: StreamConsumer, entry: StreamEntry, job: AnalysisJob, exc: Exception
    ) -> None:
        outage = as_outage(exc)
        if outage is not None:
            raise outage  # not the batch's fault: it waits for the dependency
        self.record_error(exc)
        step = await consumer.failed(entry, exc)
        if step is RetryStep.DEAD_LETTER:
            self.counters["dead_letters"] += 1
            self.log.error(
                "batch %s failed for good, sent to %s: %s",
                job.batch_id,
                keys.dlq(consumer.stream),
                exc,
            )
        else:
            self.log.warning("batch %s failed, will retry: %s", job.batch_id, exc)

    async def _dead_letter_malformed(
        self, consumer: StreamConsumer, entry: StreamEntry, exc: Exception
    ) -> None:
        """An entry that is no analysis job: no retry can fix it."""
        self.record_error(exc)
        await consumer.dead_letter(entry, f"not an analysis job: {exc}", 1, time.time())
        self.counters["dead_letters"] += 1
        self.log.error("entry %s is not an analysis job (%s): dead-lettered", entry.entry_id, exc)

    # --- lifecycle and reporting ------------------------------------------------------------
    async def close(self) -> None:
        try:
            if self._llm is not None:
                await self._llm.aclose()
                self._llm = None
        finally:
            await super().close()

    def health_problems(self) -> list[Problem]:
        problems = super().health_problems()
        breaker, llm = self._breaker, self._llm
        if self._llm_unfit is not None:
            problems.append(self._llm_unfit)
        if breaker is not None and llm is not None:
            state = breaker.status(time.time())
            if state is not BreakerState.CLOSED:
                problems.append(
                    Problem(
                        component=self.name,
                        summary=shorten(
                            f"the {llm.name} LLM does not answer ({self._last_llm_error}); "
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
        # Read once: health runs on its own thread while the main loop may close the engine.
        llm, breaker = self._llm, self._breaker
        if llm is None:
            return {"engine": "not built"}
        detail = {"engine": llm.name}
        detail["breaker"] = breaker.status(time.time()).value if breaker else "none (rules engine)"
        if isinstance(llm, ProbedLlmEngine):
            detail["structured_output"] = llm.structured_output or "not probed yet"
        if self._llm_unfit is not None:
            detail["llm_unfit"] = self._llm_unfit.summary
        if self._consumer is not None:
            detail["retrying"] = str(len(self._consumer.retries))
        if self._last_llm_error:
            detail["last_llm_error"] = self._last_llm_error
        return detail
