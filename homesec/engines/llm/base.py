"""The LLM engine interface and its errors.

The errors tell the analyst what to do next: :class:`LlmUnavailable` is worth retrying (with
backoff, behind a circuit breaker); :class:`LlmBadResponse` means the server answered without a
usable assessment, so the same request will most likely fail again; :class:`LlmConfigError`
comes from building an engine and stops start-up. None of them ever carries a made-up score.
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
