"""`python -m shared.core.codegen <module>:<document> <folder> [--check]`."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

from shared.core.codegen import stale, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m shared.core.codegen", description=__doc__)
    parser.add_argument(
        "document", help="module:attribute, the AsyncAPI document or a function returning it"
    )
    parser.add_argument("folder", type=Path, help="where the document and the clients go")
    parser.add_argument("--check", action="store_true", help="fail when a file is stale")
    args = parser.parse_args(argv)
    module, _, attribute = args.document.partition(":")
    document = getattr(importlib.import_module(module), attribute or "asyncapi")
    if callable(document):
        document = document()
    if args.check:
        old = stale(document, args.folder, modules=True)
        for path in old:
            print(f"stale: {args.folder / path} (run `make clients`)", file=sys.stderr)
        return 1 if old else 0
    for path in write(document, args.folder, modules=True):
        print(f"wrote {args.folder / path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
