"""`python -m bench`: every benchmark, one after the other."""

from __future__ import annotations

import importlib
import sys

MODULES = ("bench.triggers", "bench.stack_echo", "bench.stack_fanout", "bench.local_echo")


def main() -> None:
    for name in MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError:
            print(f"({name} is not there)", file=sys.stderr)
            continue
        print(f"== {name}")
        module.main([])
        print()


if __name__ == "__main__":
    main()
