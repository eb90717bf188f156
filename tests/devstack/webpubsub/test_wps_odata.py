"""The OData filter subset the send APIs accept."""

from __future__ import annotations

import pytest

from devstack.webpubsub.odata import FilterError, parse_filter

CASES = [
    ("userId eq 'alice'", True),
    ("userId ne 'alice'", False),
    ("connectionId eq 'c1'", True),
    ("'room' in groups", True),
    ("'other' in groups", False),
    ("not('room' in groups)", False),
    ("userId eq 'bob' or 'room' in groups", True),
    ("userId eq 'alice' and not(connectionId eq 'c1')", False),
    ("(userId eq 'x' or userId eq 'alice') and 'room' in groups", True),
    ("userId eq null", False),
]


@pytest.mark.parametrize(("source", "expected"), CASES)
def test_filter_matches_a_connection(source: str, expected: bool) -> None:
    assert parse_filter(source)("c1", "alice", frozenset({"room"})) is expected


def test_quotes_are_escaped_by_doubling() -> None:
    assert parse_filter("userId eq 'o''brien'")("c", "o'brien", frozenset())


@pytest.mark.parametrize(
    "source", ["", "userId gt 'a'", "userId eq", "foo eq 'a'", "(userId eq 'a'"]
)
def test_unsupported_filters_are_rejected(source: str) -> None:
    with pytest.raises(FilterError):
        parse_filter(source)
