"""Derived fields: arithmetic (+ - * /) on other fields and numbers, nothing else (``width_m * height_m``)."""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

__all__ = ["expression_names", "evaluate"]

_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def expression_names(expression: str, fail: Callable[[str], NoReturn]) -> set[str]:
    """The field names an expression uses; *fail* is called with the reason if it is not plain arithmetic."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        fail(f"derived expression {expression!r} is not valid")
    for node in ast.walk(tree):
        if not isinstance(node, (ast.Expression, ast.BinOp, ast.Name, ast.Constant, ast.Load, *_OPERATORS)):
            fail(f"derived expression {expression!r}: only + - * / on fields and numbers")
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}


def evaluate(node: ast.AST, values: Mapping[str, Any]) -> Any:
    """The value of a parsed expression (None when an input is None or a divisor 0)."""
    if isinstance(node, ast.Expression):
        return evaluate(node.body, values)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return values.get(node.id)
    assert isinstance(node, ast.BinOp)  # all else is refused by expression_names
    left, right = evaluate(node.left, values), evaluate(node.right, values)
    if left is None or right is None:
        return None
    if isinstance(node.op, ast.Div) and right == 0:
        return None
    return _OPERATORS[type(node.op)](left, right)
