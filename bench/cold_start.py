"""Cold start: `import function_app` against importing the packages it needs, in one run.

A serverless app pays its import on every cold start. The peer is the floor no app on this
stack can go under: a fresh interpreter importing azure.functions, the Web PubSub and Tables
async clients, pydantic's BaseModel and Field, and PyJWT. (`import pydantic` alone loads
almost nothing: pydantic 2 imports its parts when first named. Declaring one model with one
field loads BaseModel and the field machinery, Field's modules, so the floor loads them too.)
The two are timed in turn (A B A B ...), each in a new process, and the ratio of the medians
is the figure.

    python -m bench.cold_start [--runs 9]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = "import function_app"
PACKAGES = (
    "import azure.functions, azure.messaging.webpubsubservice.aio, azure.data.tables.aio, jwt; "
    "from pydantic import BaseModel, Field"
)


@dataclass(frozen=True)
class ColdStart:
    runs: int
    app_s: float  # median
    packages_s: float  # median

    @property
    def ratio(self) -> float:
        return self.app_s / self.packages_s


def _time(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)
    return time.perf_counter() - start


def run(runs: int = 9) -> ColdStart:
    _time(APP)  # warm the file cache once for both
    app, packages = [], []
    for _ in range(runs):
        app.append(_time(APP))
        packages.append(_time(PACKAGES))
    return ColdStart(runs, statistics.median(app), statistics.median(packages))


def report(f: ColdStart) -> None:
    print(f"cold start, new process each, median of {f.runs} alternating runs")
    print(f"  import function_app : {f.app_s * 1000:>8.0f} ms")
    print(f"  its packages alone  : {f.packages_s * 1000:>8.0f} ms")
    print(f"  ratio               : {f.ratio:>8.2f} x")


def main(argv: list[str] | None = None) -> ColdStart:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args(argv)
    figures = run(args.runs)
    report(figures)
    return figures


if __name__ == "__main__":
    main()
