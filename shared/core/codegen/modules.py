"""The TypeScript client compiled to ES modules a page loads (`clients/typescript/dist`).

The pinned `tsc` (package-lock.json) compiles the generated sources with `--strict` for
browsers (DOM lib, no Node types): the function app serves them at `/api/client/<name>.js`.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).parents[3]
TSC = ROOT / "node_modules" / ".bin" / "tsc"
FLAGS = [
    "--strict",
    "--target",
    "es2022",
    "--module",
    "es2022",
    "--moduleResolution",
    "bundler",
    "--lib",
    "es2022,dom",
    "--types",
    "",
]


def compile_modules(sources: dict[str, str]) -> dict[str, str]:
    """`{"api.ts": text, ...}` -> `{"api.js": text, ...}`; `CalledProcessError` when tsc fails."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, text in sources.items():
            (folder / name).write_text(text)
        subprocess.run(  # noqa: S603 - the project's pinned tsc on files we just wrote
            [str(TSC), *FLAGS, "--outDir", "out", *sorted(sources)],
            cwd=folder,
            capture_output=True,
            text=True,
            check=True,
        )
        return {path.name: path.read_text() for path in sorted((folder / "out").glob("*.js"))}
