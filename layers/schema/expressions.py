"""Filter expressions typed by users, compiled to parameterised SQL.

A small, QGIS-like language: ``status = '停用' AND (seats_male >= 4 OR open_24h)``.
Field names are checked against the layer definition and every value becomes
a bound parameter, so no user text ever reaches SQL as code.

Grammar::

    expression := term (OR term)*
    term       := factor (AND factor)*
    factor     := NOT factor | comparison
    comparison := operand [op operand | IS [NOT] NULL | [NOT] IN (value, ...)
                           | [NOT] LIKE string | [NOT] BETWEEN operand AND operand]
    operand    := field | "field" | 'text' | number | TRUE | FALSE | NULL | (expression)
    op         := = | == | != | <> | < | <= | > | >=
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from layers.errors import ExpressionError

__all__ = ["compile_filter", "CompiledFilter"]

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<number>-?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)
      | '(?P<string>(?:[^']|'')*)'
      | "(?P<quoted>[^"]+)"
      | (?P<op><=|>=|<>|!=|==|=|<|>)
      | (?P<paren>[(),])
      | (?P<word>[^\W\d]\w*)
    )""",
    re.VERBOSE | re.UNICODE,
)
_KEYWORDS = {"AND", "OR", "NOT", "IS", "NULL", "IN", "LIKE", "BETWEEN", "TRUE", "FALSE", "ILIKE"}
#: (kind, value, character position); the value is None for the ``end`` token.
_Token = tuple[str, Any, int]

_SQL_OPERATORS = {"=": "=", "==": "=", "!=": "<>", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class CompiledFilter:
    """A compiled filter: an SQL condition with ``?`` placeholders, its parameters and the fields it reads."""

    sql: str
    parameters: tuple[Any, ...]
    fields: frozenset[str]
    text: str


def _tokens(text: str) -> list[_Token]:
    position = 0
    tokens: list[_Token] = []
    while position < len(text):
        if text[position:].strip() == "":
            break
        while text[position].isspace():
            position += 1
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            snippet = text[position:position + 10]
            raise ExpressionError(f"cannot read the expression at character {position + 1}: {snippet!r}")
        kind = match.lastgroup
        assert kind is not None  # every alternative is a named group
        value = match.group(kind)
        start = match.start(kind) if kind != "string" else match.start(kind) - 1
        if kind == "word" and value.upper() in _KEYWORDS:
            kind, value = "keyword", value.upper()
        elif kind == "string":
            value = value.replace("''", "'")
        tokens.append((kind, value, start))
        position = match.end()
    tokens.append(("end", None, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str, field_names: Sequence[str]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.index = 0
        self.field_names = field_names
        self.parameters: list[Any] = []
        self.fields: set[str] = set()

    def peek(self, kind: str | None = None, value: str | None = None) -> _Token | None:
        token = self.tokens[self.index]
        if kind and token[0] != kind:
            return None
        if value and token[1] != value:
            return None
        return token

    def take(self, kind: str | None = None, value: str | None = None, expected: str | None = None) -> _Token:
        token = self.peek(kind, value)
        if token is None:
            found = self.tokens[self.index]
            shown = "the end" if found[0] == "end" else repr(found[1])
            raise ExpressionError(f"expected {expected or value or kind} at character {found[2] + 1}, found {shown}")
        self.index += 1
        return token

    def parse(self) -> str:
        sql = self.expression()
        self.take("end", expected="the end of the expression")
        return sql

    def expression(self) -> str:
        parts = [self.term()]
        while self.peek("keyword", "OR"):
            self.take()
            parts.append(self.term())
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    def term(self) -> str:
        parts = [self.factor()]
        while self.peek("keyword", "AND"):
            self.take()
            parts.append(self.factor())
        return parts[0] if len(parts) == 1 else "(" + " AND ".join(parts) + ")"

    def factor(self) -> str:
        if self.peek("keyword", "NOT"):
            self.take()
            return f"(NOT {self.factor()})"
        return self.comparison()

    def comparison(self) -> str:
        left = self.operand()
        token = self.tokens[self.index]
        if token[0] == "op":
            self.take()
            return f"({left} {_SQL_OPERATORS[token[1]]} {self.operand()})"
        if token == ("keyword", "IS", token[2]):
            self.take()
            is_not = self.peek("keyword", "NOT") is not None
            if is_not:
                self.take()
            self.take("keyword", "NULL", expected="NULL")
            return f"({left} IS {'NOT ' if is_not else ''}NULL)"
        negated = False
        if self.peek("keyword", "NOT"):
            self.take()
            negated = True
        not_ = "NOT " if negated else ""
        if self.peek("keyword", "IN"):
            self.take()
            self.take("paren", "(", expected="(")
            values = [self.value()]
            while self.peek("paren", ","):
                self.take()
                values.append(self.value())
            self.take("paren", ")", expected=")")
            return f"({left} {not_}IN ({', '.join(values)}))"
        if self.peek("keyword", "LIKE") or self.peek("keyword", "ILIKE"):
            self.take()
            return f"({left} {not_}LIKE {self.value(kind='string')})"
        if self.peek("keyword", "BETWEEN"):
            self.take()
            low = self.operand()
            self.take("keyword", "AND", expected="AND")
            return f"({left} {not_}BETWEEN {low} AND {self.operand()})"
        if negated:
            raise ExpressionError(f"expected IN, LIKE or BETWEEN after NOT at character {token[2] + 1}")
        return left  # a bare field or value: its truth (for booleans)

    def operand(self) -> str:
        token = self.tokens[self.index]
        if token[0] == "paren" and token[1] == "(":
            self.take()
            inner = self.expression()
            self.take("paren", ")", expected=")")
            return inner
        if token[0] in ("word", "quoted"):
            self.take()
            return self.field(token)
        return self.value()

    def field(self, token: _Token) -> str:
        name = token[1]
        if name not in self.field_names:
            raise ExpressionError(
                f"unknown field {name!r} at character {token[2] + 1} (fields: {', '.join(self.field_names)})"
            )
        self.fields.add(name)
        return f'"{name}"'

    def value(self, kind: str | None = None) -> str:
        token = self.take(expected="a value")
        if kind and token[0] != kind:
            raise ExpressionError(f"expected a text in quotes at character {token[2] + 1}")
        if token[0] == "string":
            self.parameters.append(token[1])
        elif token[0] == "number":
            number = float(token[1])
            self.parameters.append(int(number) if number.is_integer() and re.fullmatch(r"-?\d+", token[1]) else number)
        elif token == ("keyword", "TRUE", token[2]):
            self.parameters.append(1)
        elif token == ("keyword", "FALSE", token[2]):
            self.parameters.append(0)
        elif token == ("keyword", "NULL", token[2]):
            return "NULL"
        else:
            shown = "the end" if token[0] == "end" else repr(token[1])
            raise ExpressionError(f"expected a value at character {token[2] + 1}, found {shown}")
        return "?"


def compile_filter(text: str, field_names: Iterable[str]) -> CompiledFilter:
    """Compile a user's filter expression into a parameterised SQL condition.

    Parameters
    ----------
    text : str
        The expression, e.g. ``status = '停用' AND seats_male >= 4``.
    field_names : iterable of str
        The fields the expression may use (a layer definition's
        ``field_names``, plus ``fid`` if wanted).

    Returns
    -------
    CompiledFilter

    Raises
    ------
    ExpressionError
        Naming the character where the expression cannot be read, or the unknown field.
    """
    if not text or not text.strip():
        raise ExpressionError("the expression is empty")
    parser = _Parser(text, tuple(field_names))
    sql = parser.parse()
    return CompiledFilter(sql, tuple(parser.parameters), frozenset(parser.fields), text)
