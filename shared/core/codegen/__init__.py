"""Generate the AsyncAPI document and the typed clients made from it.

    python -m shared.core.codegen function_app:asyncapi clients   # write
    python -m shared.core.codegen function_app:asyncapi clients --check   # fail when stale

The clients are made from the document alone; both are deterministic (sorted keys, sorted
channels and operations), so the committed files change only when the wiring does.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from shared.core.asyncapi import document_json
from shared.core.codegen import python, typescript
from shared.core.codegen.modules import compile_modules
from shared.core.codegen.spec import read

TEMPLATES = Path(__file__).parent / "templates"
ROOT = Path(__file__).parents[3]
PYTHON_PACKAGE = "python/channels_client"
MODULES = "typescript/dist"  # the compiled ES modules, served to pages


def formatted(source: str) -> str:
    """Python source as `ruff` (pinned in requirements-dev.txt) fixes and formats it."""

    def ruff(*args: str, text: str) -> str:
        name = f"clients/{PYTHON_PACKAGE}/generated.py"  # under the project's ruff settings
        command = [sys.executable, "-m", "ruff", *args, "--stdin-filename", name, "-"]
        return subprocess.run(  # noqa: S603 - our interpreter running the pinned ruff
            command, input=text, capture_output=True, text=True, check=True, cwd=ROOT
        ).stdout

    return ruff("format", text=ruff("check", "--fix-only", "--exit-zero", text=source))


def generate(document: dict[str, Any], *, modules: bool = False) -> dict[str, str]:
    """Every generated file, by its path under the clients folder; with `modules`, also the
    TypeScript client compiled to the ES modules a page loads (needs `tsc`)."""
    spec = read(json.loads(document_json(document)))
    files = {
        "asyncapi.json": document_json(document),
        "typescript/api.ts": typescript.generate(spec),
        "typescript/runtime.ts": (TEMPLATES / "runtime.ts").read_text(),
        f"{PYTHON_PACKAGE}/__init__.py": formatted(python.package(spec)),
        f"{PYTHON_PACKAGE}/models.py": formatted(python.models(spec)),
        f"{PYTHON_PACKAGE}/client.py": formatted(python.client(spec)),
        f"{PYTHON_PACKAGE}/runtime.py": (TEMPLATES / "runtime.py").read_text(),
        f"{PYTHON_PACKAGE}/py.typed": "",
    }
    if modules:
        sources = {p.removeprefix("typescript/"): t for p, t in files.items() if p.endswith(".ts")}
        for name, text in compile_modules(sources).items():
            files[f"{MODULES}/{name}"] = text
    return files


def _differing(files: dict[str, str], folder: Path) -> list[str]:
    return sorted(
        path
        for path, text in files.items()
        if not (folder / path).is_file() or (folder / path).read_text() != text
    )


def stale(document: dict[str, Any], folder: Path, *, modules: bool = False) -> list[str]:
    """The generated files that are missing or differ from what `generate` makes now."""
    return _differing(generate(document, modules=modules), folder)


def write(document: dict[str, Any], folder: Path, *, modules: bool = False) -> list[str]:
    """Write the files that changed; the paths written."""
    files = generate(document, modules=modules)
    changed = _differing(files, folder)
    for path in changed:
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(files[path])
    return changed
