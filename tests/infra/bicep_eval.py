"""Bicep expressions evaluated for one choice of parameter values, as ARM would evaluate them.

The infra checks use it to see what one template deploys for each hosting plan. It knows only
what the templates here use: literals, objects, arrays, parameters given a value, variables,
`==` `!=` `&&` `||` `!`, `c ? a : b`, `x[k]`, `x.k` and `concat()`. Anything else (a resource
property, `listKeys()`, an interpolated string) evaluates to an `Opaque` that keeps its node, so
a check can still look at its source or ask whether it is a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeAlias

from tree_sitter import Node

from tests.infra.bicep_tree import BicepFile, items, literal, object_items, source


@dataclass(frozen=True)
class Opaque:
    """A value known only at deployment time."""

    node: Node

    @property
    def source(self) -> str:
        return source(self.node)


Value: TypeAlias = str | bool | int | list["Value"] | dict[str, "Value"] | Opaque | None


class Evaluator:
    """Evaluate expressions of one file with some of its parameters fixed."""

    def __init__(self, file: BicepFile, params: Mapping[str, Value]) -> None:
        self.file = file
        self.params = dict(params)

    def eval(self, node: Node | None, seen: frozenset[str] = frozenset()) -> Value:
        if node is None or node.type == "null":
            return None
        kind = node.type
        if kind in ("boolean", "number") or (kind == "string" and literal(node) is not None):
            return literal(node)
        if kind == "object":
            return {key: self.eval(value, seen) for key, value in object_items(node)}
        if kind == "array":
            return [self.eval(item, seen) for item in items(node)]
        if kind == "parenthesized_expression":
            return self.eval(node.named_children[0], seen)
        if kind == "identifier":
            return self._name(node, seen)
        if kind == "unary_expression" and source(node).startswith("!"):
            value = self.eval(node.named_children[0], seen)
            return not value if isinstance(value, bool) else Opaque(node)
        if kind == "binary_expression":
            return self._binary(node, seen)
        if kind == "ternary_expression":
            condition = self.eval(node.child_by_field_name("condition"), seen)
            if not isinstance(condition, bool):
                return Opaque(node)
            branch = "consequence" if condition else "alternative"
            return self.eval(node.child_by_field_name(branch), seen)
        if kind in ("member_expression", "subscript_expression"):
            return self._access(node, seen)
        if kind == "call_expression":
            return self._call(node, seen)
        return Opaque(node)

    def _name(self, node: Node, seen: frozenset[str]) -> Value:
        name = source(node)
        if name in self.params:
            return self.params[name]
        if name in self.file.variables and name not in seen:
            return self.eval(self.file.variables[name], seen | {name})
        return Opaque(node)

    def _binary(self, node: Node, seen: frozenset[str]) -> Value:
        left = self.eval(node.child_by_field_name("left"), seen)
        right = self.eval(node.child_by_field_name("right"), seen)
        operator = next(c.type for c in node.children if not c.is_named)
        if isinstance(left, Opaque) or isinstance(right, Opaque):
            return Opaque(node)
        if operator == "==":
            return left == right
        if operator == "!=":
            return left != right
        if operator in ("&&", "||") and isinstance(left, bool) and isinstance(right, bool):
            return (left and right) if operator == "&&" else (left or right)
        return Opaque(node)

    def _access(self, node: Node, seen: frozenset[str]) -> Value:
        container = self.eval(node.child_by_field_name("object"), seen)
        if node.type == "member_expression":
            key: Value = source(node.child_by_field_name("property") or node)
        else:
            key = self.eval(node.child_by_field_name("index"), seen)
        if isinstance(container, dict) and isinstance(key, str) and key in container:
            return container[key]
        return Opaque(node)

    def _call(self, node: Node, seen: frozenset[str]) -> Value:
        callee, arguments = node.named_children[0], node.named_children[-1]
        args = [self.eval(a, seen) for a in arguments.named_children if a.type != "comment"]
        if source(callee) == "concat" and all(isinstance(a, list) for a in args):
            return [item for a in args if isinstance(a, list) for item in a]
        return Opaque(node)


def at(value: Value, path: str) -> Value:
    """The value at a dotted path of nested objects (`sku.name`), or None."""
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value
