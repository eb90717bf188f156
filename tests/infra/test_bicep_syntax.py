"""Every Bicep file under infra/ parses with tree-sitter-bicep, with no ERROR or MISSING node."""

from __future__ import annotations

import pytest

from tests.infra.bicep_checks import INFRA_DIR, load_sources
from tests.infra.bicep_tree import parse, syntax_errors, walk

SOURCES = load_sources()


def test_infra_holds_the_template_its_parameters_and_modules() -> None:
    assert {"main.bicep", "main.bicepparam"} <= set(SOURCES)
    assert any(path.startswith("modules/") for path in SOURCES)


@pytest.mark.parametrize("path", sorted(SOURCES))
def test_file_parses_without_error_nodes(path: str) -> None:
    root = parse(SOURCES[path], bicepparam=path.endswith(".bicepparam"))
    assert syntax_errors(root) == [], f"infra/{path}"


def test_bicepparam_using_statement_parses_as_written() -> None:
    root = parse((INFRA_DIR / "main.bicepparam").read_text())
    using = [n for n in walk(root) if n.type == "using_statement"]
    assert len(using) == 1
    assert syntax_errors(using[0]) == []


def test_grammar_reads_bicepparam_assignments_only_as_vars() -> None:
    # tree-sitter-bicep 1.1.0 has no `param name = value` (bicepparam) rule, so bicep_tree
    # parses assignments as `var name = value`. When a grammar release parses them, this
    # test fails: then drop the swap in bicep_tree.parse.
    text = "using 'main.bicep'\n\nparam hubName = 'channels'\n"
    assert syntax_errors(parse(text)) != []
    assert syntax_errors(parse(text, bicepparam=True)) == []


def test_syntax_errors_name_the_line() -> None:
    assert syntax_errors(parse("var a = {\n  b: 1\n}}\n")) == ["line 3: cannot parse '}'"]
