"""The OData filter subset the send APIs accept.

Supported: `userId`, `connectionId` with `eq` / `ne` against a string or `null`;
`'<group>' in groups`; `not <expr>` (with or without parentheses); `and`; `or`;
parentheses. Keywords are case-sensitive, as in OData.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Predicate = Callable[[str, str | None, frozenset[str]], bool]

_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<punct>[()])|(?P<word>[A-Za-z_][\w.]*))")


class FilterError(ValueError):
    """The filter is not in the supported subset."""


@dataclass(frozen=True)
class _Token:
    kind: str  # "str", "punct", "word"
    text: str


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    source = source.rstrip()
    while position < len(source):
        match = _TOKEN.match(source, position)
        if match is None or match.end() == position:
            raise FilterError(f"unexpected character at {position}: {source[position:]!r}")
        kind = match.lastgroup or ""
        text = match.group(kind)
        if kind == "str":
            text = text[1:-1].replace("''", "'")
        tokens.append(_Token(kind, text))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list[_Token]) -> None:
        self.tokens = tokens
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise FilterError("unexpected end of filter")
        self.index += 1
        return token

    def expect(self, kind: str, text: str | None = None) -> _Token:
        token = self.take()
        if token.kind != kind or (text is not None and token.text != text):
            raise FilterError(f"expected {text or kind}, got {token.text!r}")
        return token

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token is not None and token.kind == "word" and token.text == word:
            self.index += 1
            return True
        return False

    def parse(self) -> Predicate:
        predicate = self.parse_or()
        if self.peek() is not None:
            raise FilterError(f"unexpected {self.take().text!r}")
        return predicate

    def parse_or(self) -> Predicate:
        left = self.parse_and()
        while self.keyword("or"):
            right = self.parse_and()
            left = _or(left, right)
        return left

    def parse_and(self) -> Predicate:
        left = self.parse_unary()
        while self.keyword("and"):
            right = self.parse_unary()
            left = _and(left, right)
        return left

    def parse_unary(self) -> Predicate:
        if self.keyword("not"):
            inner = self.parse_unary()
            return lambda c, u, g: not inner(c, u, g)
        return self.parse_primary()

    def parse_primary(self) -> Predicate:
        token = self.take()
        if token.kind == "punct" and token.text == "(":
            inner = self.parse_or()
            self.expect("punct", ")")
            return inner
        if token.kind == "str":
            self.expect("word", "in")
            self.expect("word", "groups")
            group = token.text
            return lambda c, u, g: group in g
        if token.kind == "word" and token.text in {"userId", "connectionId"}:
            operator = self.expect("word").text
            if operator not in {"eq", "ne"}:
                raise FilterError(f"unsupported operator {operator!r}: use eq or ne")
            value_token = self.take()
            if value_token.kind == "str":
                value: str | None = value_token.text
            elif value_token.kind == "word" and value_token.text == "null":
                value = None
            else:
                raise FilterError(f"expected a string or null, got {value_token.text!r}")
            equal = operator == "eq"
            if token.text == "userId":
                return lambda c, u, g: (u == value) is equal
            return lambda c, u, g: (c == value) is equal
        raise FilterError(f"unsupported filter term {token.text!r}")


def _and(left: Predicate, right: Predicate) -> Predicate:
    return lambda c, u, g: left(c, u, g) and right(c, u, g)


def _or(left: Predicate, right: Predicate) -> Predicate:
    return lambda c, u, g: left(c, u, g) or right(c, u, g)


def parse_filter(source: str) -> Predicate:
    """A predicate over (connection id, user id, groups); raises FilterError."""
    tokens = _tokenize(source)
    if not tokens:
        raise FilterError("empty filter")
    return _Parser(tokens).parse()
