"""Bicep syntax trees (tree-sitter-bicep) and the declarations the infra checks read from them.

tree-sitter-bicep 1.1.0 has no `.bicepparam` grammar: it parses `using '...'`, but its `param`
always wants a type, so a parameter assignment `param name = value` comes out as ERROR/MISSING
nodes. An assignment has exactly the syntax of a Bicep `var name = value`, so a `.bicepparam`
file is parsed with that one keyword swapped at the start of each assignment line; everything
else, values included, goes through the grammar unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property

import tree_sitter_bicep
from tree_sitter import Language, Node, Parser

_PARSER = Parser(Language(tree_sitter_bicep.language()))
_PARAM_ASSIGNMENT = re.compile(r"^param(\s+\w+\s*=)", re.MULTILINE)
_ESCAPES = {"\\'": "'", "\\\\": "\\", "\\n": "\n", "\\r": "\r", "\\t": "\t", "\\$": "$"}


def parse(text: str, *, bicepparam: bool = False) -> Node:
    if bicepparam:
        text = _PARAM_ASSIGNMENT.sub(r"var\1", text)
    return _PARSER.parse(text.encode()).root_node


def source(node: Node) -> str:
    return (node.text or b"").decode()


def walk(node: Node) -> Iterator[Node]:
    yield node
    for child in node.children:
        yield from walk(child)


def syntax_errors(root: Node) -> list[str]:
    """ERROR and MISSING nodes, as `line N: ...` (1-based)."""
    return [
        f"line {n.start_point.row + 1}: {'missing ' + n.type if n.is_missing else 'cannot parse'}"
        f" {source(n)[:40]!r}"
        for n in walk(root)
        if n.is_error or n.is_missing
    ]


# --- values -------------------------------------------------------------------------------------


def string_parts(node: Node) -> list[str | Node] | None:
    """A string literal as literal text and interpolated expressions, in order; None if not one."""
    if node.type != "string":
        return None
    parts: list[str | Node] = []
    for child in node.named_children:
        if child.type in ("string_content", "escape_sequence"):
            piece = source(child)
            piece = _ESCAPES.get(piece, piece)
            if parts and isinstance(parts[-1], str):
                parts[-1] += piece
            else:
                parts.append(piece)
        elif child.type == "interpolation":
            parts.append(child.named_children[0])
    return parts


def literal(node: Node | None) -> str | bool | int | None:
    """The value of a plain string (no interpolation), boolean or integer literal, else None."""
    if node is None:
        return None
    if node.type == "boolean":
        return source(node) == "true"
    if node.type == "number":
        return int(source(node))
    parts = string_parts(node)
    if parts is None or any(not isinstance(p, str) for p in parts):
        return None
    return "".join(p for p in parts if isinstance(p, str))


def has_literal_text(node: Node) -> bool:
    """A string with literal characters of its own (interpolations alone do not count)."""
    parts = string_parts(node)
    return parts is not None and any(isinstance(p, str) and p for p in parts)


def prop(node: Node | None, *path: str) -> Node | None:
    """Value of `a.b.c` in an object literal, or None."""
    for key in path:
        if node is None or node.type != "object":
            return None
        node = next((v for k, v in object_items(node) if k == key), None)
    return node


def object_items(node: Node) -> Iterator[tuple[str, Node]]:
    for child in node.named_children:
        if child.type != "object_property" or child.child_count < 3:
            continue
        key_node, value = child.named_children[0], child.named_children[-1]
        key = literal(key_node) if key_node.type == "string" else source(key_node)
        if isinstance(key, str):
            yield key, value


def items(node: Node | None) -> list[Node]:
    """Elements of an array literal."""
    if node is None or node.type != "array":
        return []
    return [c for c in node.named_children if c.type != "comment"]


def calls(node: Node) -> set[str]:
    """Names of the functions called in an expression, `x.listKeys()` giving `listKeys`."""
    names: set[str] = set()
    for n in walk(node):
        if n.type == "call_expression" and n.named_children:
            callee = n.named_children[0]
            name = callee.named_children[-1] if callee.type == "member_expression" else callee
            names.add(source(name))
    return names


# --- declarations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Param:
    name: str
    type: str
    default: Node | None
    decorators: frozenset[str]
    allowed: tuple[str | bool | int | None, ...]

    @property
    def secure(self) -> bool:
        return "secure" in self.decorators


@dataclass(frozen=True)
class Resource:
    file: str
    symbol: str
    type: str  # full type, without the API version
    body: Node | None
    existing: bool


class BicepFile:
    """One parsed `.bicep` or `.bicepparam` file and its top-level declarations."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self.root = parse(text, bicepparam=path.endswith(".bicepparam"))

    def _top(self, kind: str) -> Iterator[tuple[str, Node]]:
        for decl in self.root.named_children:
            if decl.type == kind and len(decl.named_children) >= 2:
                yield source(decl.named_children[0]), decl

    @cached_property
    def params(self) -> dict[str, Param]:
        found: dict[str, Param] = {}
        for name, decl in self._top("parameter_declaration"):
            named = decl.named_children
            type_node = next((c for c in named if c.type == "type"), None)
            has_default = any(c.type == "=" for c in decl.children)
            decorators = _decorators(decl)
            allowed = decorators.get("allowed")
            found[name] = Param(
                name=name,
                type=source(type_node) if type_node else "",
                default=named[-1] if has_default else None,
                decorators=frozenset(decorators),
                allowed=tuple(literal(i) for i in items(allowed)) if allowed else (),
            )
        return found

    @cached_property
    def variables(self) -> dict[str, Node]:
        """`var` declarations; in a `.bicepparam` file these are its parameter assignments."""
        return {name: decl.named_children[-1] for name, decl in self._top("variable_declaration")}

    @cached_property
    def outputs(self) -> dict[str, Node]:
        return {name: decl.named_children[-1] for name, decl in self._top("output_declaration")}

    @cached_property
    def using(self) -> str | None:
        for decl in self.root.named_children:
            if decl.type == "using_statement":
                value = literal(decl.named_children[-1])
                return value if isinstance(value, str) else None
        return None

    @cached_property
    def resources(self) -> list[Resource]:
        return list(_resources(self.path, self.root, parent_type=""))


def _decorators(decl: Node) -> dict[str, Node | None]:
    """Decorators written above a declaration: name -> first argument (or None)."""
    prev = decl.prev_named_sibling
    while prev is not None and prev.type == "comment":
        prev = prev.prev_named_sibling
    found: dict[str, Node | None] = {}
    if prev is None or prev.type != "decorators":
        return found
    for decorator in prev.named_children:
        call = next((c for c in decorator.named_children if c.type == "call_expression"), None)
        if call is None:
            continue
        args = [a for a in call.named_children[-1].named_children if a.type != "comment"]
        found[source(call.named_children[0])] = args[0] if args else None
    return found


def _resources(path: str, node: Node, parent_type: str) -> Iterator[Resource]:
    for child in node.named_children:
        if child.type != "resource_declaration":
            # Nested resources sit in object properties of their parent's body.
            yield from _resources(path, child, parent_type)
            continue
        named = child.named_children
        type_text = literal(named[1])
        if not isinstance(type_text, str):
            continue
        type_name = type_text.split("@", 1)[0]
        if parent_type and "." not in type_name.split("/", 1)[0]:
            type_name = f"{parent_type}/{type_name}"
        body = named[-1]
        if body.type in ("if_statement", "for_statement"):
            body = next((c for c in body.named_children if c.type == "object"), body)
        existing = any(c.type == "existing" for c in child.children)
        yield Resource(path, source(named[0]), type_name, body, existing)
        yield from _resources(path, body, type_name)


class Infra:
    """Every Bicep file under infra/, parsed; keys are paths relative to infra/."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.files = {path: BicepFile(path, text) for path, text in sorted(sources.items())}

    @property
    def main(self) -> BicepFile:
        return self.files["main.bicep"]

    @property
    def params_file(self) -> BicepFile | None:
        return self.files.get("main.bicepparam")

    def resources(self, type_name: str) -> list[Resource]:
        """Declared (not `existing`) resources of a type, in every file; types compare as ARM
        compares them, case-insensitively."""
        return [
            r
            for f in self.files.values()
            for r in f.resources
            if r.type.lower() == type_name.lower() and not r.existing
        ]
