"""Structured output over the OpenAI chat API: the dialects servers speak, and the probe that
finds, once, which one a server honours.

OpenAI-compatible servers take the answer's JSON schema in one of two shapes of
``response_format``:

- ``json_schema``: ``{"type": "json_schema", "json_schema": {"name", "schema", "strict"}}``,
  OpenAI's own, spoken by vLLM, llama.cpp's ``llama-server``, Ollama, LM Studio and others;
- ``json_object`` with ``schema``: ``{"type": "json_object", "schema": {...}}``,
  llama-cpp-python's server (``python -m llama_cpp.server``), which refuses ``json_schema``.

Some servers accept a ``response_format`` and ignore it, so a request that goes through proves
nothing. The probe asks for a schema with one required property whose only allowed value is a
random token, without saying the token in the prompt: a server that constrains the answer to the
schema must answer the token, and a model left to itself cannot guess it.

Everything here is a pure function of status codes and texts; the engine does the HTTP.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from typing import Any

import msgspec


class Dialect(enum.StrEnum):
    JSON_SCHEMA = "json_schema"
    JSON_OBJECT_SCHEMA = "json_object+schema"


# The standard first: a server that speaks both is asked the way most servers are.
PROBE_ORDER: tuple[Dialect, ...] = (Dialect.JSON_SCHEMA, Dialect.JSON_OBJECT_SCHEMA)

PROBE_PROPERTY = "probe"
# The constrained answer is {"probe": "<16 hex digits>"}: about 15 tokens. The bound keeps a
# server that ignores the schema from talking for minutes.
PROBE_MAX_TOKENS = 48
# "Try again later", not "this request is wrong" (what 5xx other than 500/501 say too).
RETRYABLE_STATUS = frozenset({408, 409, 425, 429})
# Some servers (llama-cpp-python) answer a response_format they do not know with 500, so 500
# and 501 to one dialect say "not this way" as much as "broken"; other 5xx say "away".
DIALECT_REFUSAL_5XX = frozenset({500, 501})
_EXCERPT_CHARS = 160


def response_format(dialect: Dialect, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    """The ``response_format`` asking for ``schema`` in ``dialect``."""
    if dialect is Dialect.JSON_SCHEMA:
        return {
            "type": "json_schema",
            "json_schema": {"name": name, "schema": schema, "strict": True},
        }
    return {"type": "json_object", "schema": schema}


def probe_schema(token: str) -> dict[str, Any]:
    """A schema only ``{"probe": token}`` satisfies. ``enum`` with one value rather than
    ``const``: every grammar converter met so far knows ``enum``."""
    return {
        "type": "object",
        "properties": {PROBE_PROPERTY: {"type": "string", "enum": [token]}},
        "required": [PROBE_PROPERTY],
        "additionalProperties": False,
    }


def probe_messages() -> list[dict[str, str]]:
    """A request for some JSON object that does not say which: the token is not in it."""
    return [
        {"role": "system", "content": "You answer with one JSON object and nothing else."},
        {"role": "user", "content": "Reply with a JSON object that has one property."},
    ]


def probe_request(model: str, dialect: Dialect, token: str) -> dict[str, Any]:
    """The body of one probe's ``/chat/completions`` request."""
    return {
        "model": model,
        "messages": probe_messages(),
        "response_format": response_format(dialect, "probe", probe_schema(token)),
        "temperature": 0,
        "max_tokens": PROBE_MAX_TOKENS,
    }


def completion_content(body: Any) -> str | None:
    """The first choice's message text of a decoded chat completion; None if it has none."""
    try:
        content = body["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return None
    return content if isinstance(content, str) else None


def obeys_probe(content: str, token: str) -> bool:
    """Whether ``content`` validates against :func:`probe_schema` of ``token``: exactly one JSON
    object, ``{"probe": token}`` (whitespace around it allowed)."""
    try:
        value = json.loads(content)
    except ValueError:
        return False
    return value == {PROBE_PROPERTY: token}


class ProbeOutcome(enum.StrEnum):
    CONSTRAINED = "constrained"  # the answer validates: the server honours this dialect
    FREE_TEXT = "free text"  # an answer that does not: the schema was ignored
    REFUSED = "refused"  # "not this request": 4xx, 500, 501, or a reply that is no completion
    UNREACHABLE = "unreachable"  # no answer: refused connection, timeout, overloaded, 502-504


class ProbeResult(msgspec.Struct, frozen=True, kw_only=True):
    """What one dialect's probe got: the outcome, and the status or error for a person."""

    dialect: Dialect
    outcome: ProbeOutcome
    detail: str
    status: int | None = None  # the HTTP status; None when no answer came


def _excerpt(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _EXCERPT_CHARS else text[: _EXCERPT_CHARS - 1] + "…"


def probe_result(dialect: Dialect, status: int, body_text: str, token: str) -> ProbeResult:
    """What an HTTP answer to a probe in ``dialect`` implies about that dialect."""
    if status >= 400:
        if (status >= 500 and status not in DIALECT_REFUSAL_5XX) or status in RETRYABLE_STATUS:
            outcome = ProbeOutcome.UNREACHABLE
        else:
            outcome = ProbeOutcome.REFUSED
        return ProbeResult(
            dialect=dialect,
            outcome=outcome,
            status=status,
            detail=f"HTTP {status}: {_excerpt(body_text)!r}",
        )
    try:
        content = completion_content(json.loads(body_text))
    except ValueError:
        content = None
    if content is None:  # a proxy's page, say: no answer of the model's to judge
        return ProbeResult(
            dialect=dialect,
            outcome=ProbeOutcome.REFUSED,
            status=status,
            detail=f"not a chat completion: {_excerpt(body_text)!r}",
        )
    if obeys_probe(content, token):
        return ProbeResult(
            dialect=dialect, outcome=ProbeOutcome.CONSTRAINED, status=status, detail="validated"
        )
    return ProbeResult(
        dialect=dialect,
        outcome=ProbeOutcome.FREE_TEXT,
        status=status,
        detail=f"answered {_excerpt(content)!r}, which does not validate",
    )


def unreachable(dialect: Dialect, error: str) -> ProbeResult:
    """A probe that got no HTTP answer at all (refused connection, timeout)."""
    return ProbeResult(dialect=dialect, outcome=ProbeOutcome.UNREACHABLE, detail=error)


def next_probe(results: Sequence[ProbeResult]) -> Dialect | None:
    """The dialect to probe next, or None when the probe is over: a dialect worked, the server
    did not answer (asking another way will not help), or every dialect was tried."""
    if any(r.outcome in (ProbeOutcome.CONSTRAINED, ProbeOutcome.UNREACHABLE) for r in results):
        return None
    tried = {r.dialect for r in results}
    return next((dialect for dialect in PROBE_ORDER if dialect not in tried), None)


class VerdictKind(enum.StrEnum):
    FOUND = "found"  # ``dialect`` constrains the server's answers
    SCHEMA_IGNORED = "schema ignored"  # it answers, but in no dialect to the schema
    REFUSED = "refused"  # every dialect refused, not with 5xx: a wrong model name, key or URL
    UNAVAILABLE = "unavailable"  # no answer, or a failing server: probe again later


class ProbeVerdict(msgspec.Struct, frozen=True, kw_only=True):
    kind: VerdictKind
    dialect: Dialect | None = None
    detail: str  # each dialect's result, for the log and health


def probe_verdict(results: Sequence[ProbeResult]) -> ProbeVerdict:
    """The probe's conclusion from each dialect's result (in the order they were tried)."""
    detail = "; ".join(f"{r.dialect}: {r.outcome} ({r.detail})" for r in results)
    found = next((r.dialect for r in results if r.outcome is ProbeOutcome.CONSTRAINED), None)
    if found is not None:
        return ProbeVerdict(kind=VerdictKind.FOUND, dialect=found, detail=detail)
    if any(r.outcome is ProbeOutcome.FREE_TEXT for r in results):
        return ProbeVerdict(kind=VerdictKind.SCHEMA_IGNORED, detail=detail)
    if results and all(
        r.outcome is ProbeOutcome.REFUSED and (r.status or 500) < 500 for r in results
    ):
        return ProbeVerdict(kind=VerdictKind.REFUSED, detail=detail)
    return ProbeVerdict(kind=VerdictKind.UNAVAILABLE, detail=detail or "nothing was tried")
