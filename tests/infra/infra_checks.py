"""Every infra check (bicep_checks: resources and settings; deploy_checks: order and plans)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from tests.infra import bicep_checks, deploy_checks
from tests.infra.bicep_tree import Infra

CHECKS: tuple[Callable[[Infra], list[str]], ...] = bicep_checks.CHECKS + deploy_checks.CHECKS


def problems(sources: Mapping[str, str]) -> list[str]:
    """Everything wrong with these infra sources, from every check."""
    if "main.bicep" not in sources:
        return ["infra/main.bicep is missing"]
    infra = Infra(sources)
    return [problem for check in CHECKS for problem in check(infra)]
