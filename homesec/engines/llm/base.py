"""The LLM engine interface and its errors.

The errors tell the analyst what to do next: :class:`LlmUnavailable` is worth retrying (with
backoff, behind a circuit breaker); :class:`LlmBadResponse` means the server answered without a
usable assessment, so the same request will most likely fail again; :class:`LlmConfigError`
comes from building an engine and stops start-up; :class:`LlmIgnoresSchema` says a server is
not fit to score at all. None of them ever carries a made-up score.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from homesec.contract.analysis import AnalysisContext, RiskAssessment


class LlmError(RuntimeError):
    """Root of the LLM engines' errors."""


class LlmUnavailable(LlmError):
    """The model could not be asked: connection refused, timeout, overloaded or failing server."""


class LlmBadResponse(LlmError):
    """The server answered but gave no valid assessment: unparseable text, a schema violation,
    or a refusal of the request itself (a 4xx such as a wrong model name or API key)."""


class LlmIgnoresSchema(LlmBadResponse):
    """The server answers, but not to the answer's JSON schema in any way it was asked (the
    start-up probe's finding): its free text is not to be trusted with a score."""


class LlmConfigError(LlmError):
    """The configured engine cannot be built here (a missing package, a missing URL)."""


@runtime_checkable
class LlmEngine(Protocol):
    @property
    def name(self) -> str: ...

    async def assess(self, context: AnalysisContext) -> RiskAssessment:
        """The risk of one batch. Raises :class:`LlmError` subclasses, never guesses."""
        ...

    async def aclose(self) -> None:
        """Release connections or GPU memory; the engine is not used afterwards."""
        ...


@runtime_checkable
class ProbedLlmEngine(LlmEngine, Protocol):
    """An engine whose server must first be asked how it takes the answer's schema."""

    @property
    def structured_output(self) -> str | None:
        """How the server is asked for the schema, once a probe found it; None before."""
        ...

    async def probe(self) -> str:
        """Find how the server takes the schema (once; :meth:`assess` probes if nothing was
        found yet) and return it. Raises :class:`LlmIgnoresSchema` when the server answers
        without honouring the schema, :class:`LlmUnavailable` or :class:`LlmBadResponse` when
        it gives no usable answer (probe again later)."""
        ...
