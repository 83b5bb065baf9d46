"""Reading JSON bodies: the nesting scan before parsing, and what the reader refuses."""

from __future__ import annotations

import json

import pytest

from backend.api.request_io import MAX_JSON_DEPTH, parse_json_object, too_deep
from backend.errors import InvalidInput, MalformedRequest

DEPTH_CASES = [
    # (id, JSON text, deeper than 3 levels?)
    ("flat-object", '{"a": 1, "b": [1, 2]}', False),
    ("three-levels", '{"a": [{"b": 1}]}', False),
    ("four-levels", '{"a": [{"b": [1]}]}', True),
    ("siblings-do-not-add-up", '[[[1]], [[2]], [[3]], {"a": {"b": 1}}]', False),
    ("brackets-in-strings", '{"a": "[[[[{{{{", "b": ["]]]]"]}', False),
    ("escaped-quote-keeps-the-string-open", '{"a": "\\" [[[[ \\\\\\" {{{{"}', False),
    ("escaped-backslash-closes-the-string", '{"a": "\\\\", "b": [[[[1]]]]}', True),
    ("unicode-escape-of-a-bracket", '{"a": "\\u005b\\u005b\\u005b\\u005b"}', False),
    ("unterminated-string", '{"a": "[[[[', True),  # not JSON anyway; the parser refuses it
]


@pytest.mark.parametrize(("text", "deeper"), [c[1:] for c in DEPTH_CASES],
                         ids=[c[0] for c in DEPTH_CASES])
def test_the_scan_counts_only_brackets_outside_strings(text: str, deeper: bool) -> None:
    assert too_deep(text, limit=3) is deeper


@pytest.mark.parametrize("body", [
    {"text": "x", "rules": [{"districts": ["01", "02"]}]},
    {"deep": json.loads("[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1))},
    {"brackets": "[" * 10_000, "emoji": "\U0001F6A6", "umlaut": "Straße"},
])
def test_bodies_within_the_limits_read_as_json_does(body: dict) -> None:
    raw = json.dumps(body).encode()
    assert parse_json_object(raw) == json.loads(raw)
    assert parse_json_object(b"\xef\xbb\xbf" + raw) == body  # a UTF-8 byte order mark is fine


@pytest.mark.parametrize("raw", [
    b"[" * 100_000,
    b'{"a":' * 100_000,
    b"[" * 1_000_000 + b"]" * 1_000_000,  # larger than any body we accept: no recursion either
    json.dumps({"a": json.loads("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)}).encode(),
])
def test_too_deep_bodies_are_refused_before_parsing(raw: bytes) -> None:
    with pytest.raises(MalformedRequest) as refused:
        parse_json_object(raw)
    assert refused.value.fields == {"body": [f"nesting too deep (at most {MAX_JSON_DEPTH} "
                                             "levels)"]}


@pytest.mark.parametrize(("raw", "error", "fields"), [
    (b'{"a": "\\ud83d"}', MalformedRequest, {"body"}),
    (b'{"a": "\\ude00\\ud83d"}', MalformedRequest, {"body"}),  # a pair the wrong way round
    (b'{"a": "\xed\xb8\x80"}', MalformedRequest, {"body"}),
    (b'{"a": {"b": "\\u0000"}, "c": "\\u0000", "d": "\\\\u0000"}', InvalidInput, {"a", "c"}),
])
def test_text_no_database_can_store_is_refused(raw: bytes, error: type, fields: set) -> None:
    with pytest.raises(error) as refused:
        parse_json_object(raw)
    assert set(refused.value.fields) == fields
