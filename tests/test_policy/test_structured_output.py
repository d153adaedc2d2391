"""Structured-output dialects and the probe's pure decisions."""

from __future__ import annotations

import json

import pytest

from homesec.policy.structured_output import (
    PROBE_ORDER,
    Dialect,
    ProbeOutcome,
    ProbeResult,
    VerdictKind,
    completion_content,
    next_probe,
    obeys_probe,
    probe_messages,
    probe_request,
    probe_result,
    probe_schema,
    probe_verdict,
    response_format,
    unreachable,
)

TOKEN = "5f1c0a9e7d3b2468"
SCHEMA = {"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}


def completion(content: str | None) -> str:
    return json.dumps({"choices": [{"index": 0, "message": {"content": content}}]})


def result(dialect: Dialect, outcome: ProbeOutcome, status: int | None = None) -> ProbeResult:
    return ProbeResult(dialect=dialect, outcome=outcome, status=status, detail="x")


def test_each_dialect_asks_for_the_schema_its_own_way():
    assert response_format(Dialect.JSON_SCHEMA, "answer", SCHEMA) == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": SCHEMA, "strict": True},
    }
    assert response_format(Dialect.JSON_OBJECT_SCHEMA, "answer", SCHEMA) == {
        "type": "json_object",
        "schema": SCHEMA,
    }


def test_the_standard_dialect_is_probed_first():
    assert PROBE_ORDER == (Dialect.JSON_SCHEMA, Dialect.JSON_OBJECT_SCHEMA)


def test_the_probe_schema_allows_one_object_and_the_prompt_does_not_give_it_away():
    schema = probe_schema(TOKEN)
    assert schema["required"] == ["probe"] and schema["additionalProperties"] is False
    assert schema["properties"]["probe"]["enum"] == [TOKEN]
    body = probe_request("m", Dialect.JSON_OBJECT_SCHEMA, TOKEN)
    assert body["response_format"] == {"type": "json_object", "schema": schema}
    assert body["model"] == "m" and body["temperature"] == 0 and body["max_tokens"] <= 64
    assert TOKEN not in json.dumps(probe_messages())


@pytest.mark.parametrize(
    ("content", "obeys"),
    [
        (json.dumps({"probe": TOKEN}), True),
        (f'\n  {{ "probe" : "{TOKEN}" }}  \n', True),
        (json.dumps({"probe": "0000000000000000"}), False),  # another token
        (json.dumps({"probe": TOKEN, "more": 1}), False),  # additionalProperties: false
        (json.dumps({"name": "John"}), False),  # what a free model answers
        (f'Sure! {{"probe": "{TOKEN}"}}', False),  # text around it: not constrained
        (json.dumps([TOKEN]), False),
        ("", False),
    ],
)
def test_an_answer_obeys_the_probe_only_when_it_is_exactly_the_allowed_object(content, obeys):
    assert obeys_probe(content, TOKEN) is obeys


def test_completion_content():
    assert completion_content(json.loads(completion("hi"))) == "hi"
    assert completion_content({"choices": []}) is None
    assert completion_content({"choices": [{"message": {"content": None}}]}) is None
    assert completion_content(["not", "a", "dict"]) is None


@pytest.mark.parametrize(
    ("status", "body", "outcome"),
    [
        (200, completion(json.dumps({"probe": TOKEN})), ProbeOutcome.CONSTRAINED),
        (200, completion('{"name": "John"}'), ProbeOutcome.FREE_TEXT),
        (200, completion("I am a helpful assistant."), ProbeOutcome.FREE_TEXT),
        (200, completion(None), ProbeOutcome.REFUSED),  # no message to judge
        (200, "<html>a proxy's page</html>", ProbeOutcome.REFUSED),
        (400, '{"error": "unknown response_format"}', ProbeOutcome.REFUSED),
        (422, '{"detail": "type: input should be text or json_object"}', ProbeOutcome.REFUSED),
        (401, '{"error": "bad key"}', ProbeOutcome.REFUSED),
        (500, "Internal Server Error", ProbeOutcome.REFUSED),  # llama-cpp-python's way
        (501, "", ProbeOutcome.REFUSED),
        (502, "", ProbeOutcome.UNREACHABLE),
        (503, "loading model", ProbeOutcome.UNREACHABLE),
        (429, "slow down", ProbeOutcome.UNREACHABLE),
    ],
)
def test_what_an_answer_implies_about_its_dialect(status, body, outcome):
    got = probe_result(Dialect.JSON_SCHEMA, status, body, TOKEN)
    assert (got.dialect, got.outcome, got.status) == (Dialect.JSON_SCHEMA, outcome, status)
    if outcome is ProbeOutcome.REFUSED and status >= 400:
        assert f"HTTP {status}" in got.detail


def test_a_long_answer_is_cut_short_in_the_detail():
    got = probe_result(Dialect.JSON_SCHEMA, 200, completion("blah " * 500), TOKEN)
    assert got.outcome is ProbeOutcome.FREE_TEXT and len(got.detail) < 250


def test_the_probe_tries_dialects_in_order_until_one_is_settled():
    schema_refused = result(Dialect.JSON_SCHEMA, ProbeOutcome.REFUSED, 500)
    assert next_probe([]) is Dialect.JSON_SCHEMA
    assert next_probe([schema_refused]) is Dialect.JSON_OBJECT_SCHEMA
    free = result(Dialect.JSON_SCHEMA, ProbeOutcome.FREE_TEXT, 200)
    assert next_probe([free]) is Dialect.JSON_OBJECT_SCHEMA  # accepted but ignored: ask again
    both = [schema_refused, result(Dialect.JSON_OBJECT_SCHEMA, ProbeOutcome.REFUSED, 500)]
    assert next_probe(both) is None
    assert next_probe([result(Dialect.JSON_SCHEMA, ProbeOutcome.CONSTRAINED, 200)]) is None
    assert next_probe([unreachable(Dialect.JSON_SCHEMA, "refused connection")]) is None


@pytest.mark.parametrize(
    ("results", "kind", "dialect"),
    [
        ([(Dialect.JSON_SCHEMA, ProbeOutcome.CONSTRAINED, 200)], VerdictKind.FOUND, "json_schema"),
        (
            [
                (Dialect.JSON_SCHEMA, ProbeOutcome.REFUSED, 500),
                (Dialect.JSON_OBJECT_SCHEMA, ProbeOutcome.CONSTRAINED, 200),
            ],
            VerdictKind.FOUND,
            "json_object+schema",
        ),
        (
            [
                (Dialect.JSON_SCHEMA, ProbeOutcome.FREE_TEXT, 200),
                (Dialect.JSON_OBJECT_SCHEMA, ProbeOutcome.CONSTRAINED, 200),
            ],
            VerdictKind.FOUND,
            "json_object+schema",
        ),
        (
            [
                (Dialect.JSON_SCHEMA, ProbeOutcome.FREE_TEXT, 200),
                (Dialect.JSON_OBJECT_SCHEMA, ProbeOutcome.FREE_TEXT, 200),
            ],
            VerdictKind.SCHEMA_IGNORED,
            None,
        ),
        (
            [
                (Dialect.JSON_SCHEMA, ProbeOutcome.FREE_TEXT, 200),
                (Dialect.JSON_OBJECT_SCHEMA, ProbeOutcome.REFUSED, 400),
            ],
            VerdictKind.SCHEMA_IGNORED,
            None,
        ),
        (
            [
                (Dialect.JSON_SCHEMA, ProbeOutcome.REFUSED, 401),
                (Dialect.JSON_OBJECT_SCHEMA, ProbeOutcome.REFUSED, 401),
            ],
            VerdictKind.REFUSED,
            None,
        ),
        (
            [
                (Dialect.JSON_SCHEMA, ProbeOutcome.REFUSED, 500),
                (Dialect.JSON_OBJECT_SCHEMA, ProbeOutcome.REFUSED, 500),
            ],
            VerdictKind.UNAVAILABLE,  # failing every way: a broken server, not a dialect
            None,
        ),
        ([(Dialect.JSON_SCHEMA, ProbeOutcome.UNREACHABLE, None)], VerdictKind.UNAVAILABLE, None),
        ([], VerdictKind.UNAVAILABLE, None),
    ],
)
def test_the_verdict(results, kind, dialect):
    verdict = probe_verdict([result(*r) for r in results])
    assert (verdict.kind, verdict.dialect) == (kind, dialect)
    for d, outcome, _ in results:
        assert f"{d}: {outcome}" in verdict.detail
