"""The generated TypeScript client compiles with `tsc --strict`, and a Node test
(tests/clients/seed_flow.test.ts, `node --test`, the `ws` package as Node 20's WebSocket)
drives the seed flow through the local stack with it, over plain frames and over Web PubSub's
JSON subprotocol, and through `@azure/web-pubsub-client` (the reliable subprotocol)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from devstack.stack import LocalStack
from shared.core.codegen.modules import compile_modules

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / "node_modules" / ".bin"
SOURCES = ["clients/typescript/api.ts", "clients/typescript/runtime.ts"]
STRICT = ["--strict", "--target", "es2022", "--module", "nodenext", "--types", "node"]


def tsc(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BIN / "tsc"), *STRICT, *args], cwd=ROOT, capture_output=True, text=True, timeout=180
    )


def test_the_generated_client_compiles_with_tsc_strict() -> None:
    result = tsc("--noEmit", *SOURCES)
    assert result.returncode == 0, result.stdout + result.stderr


def test_tsc_strict_rejects_a_wrongly_typed_call(tmp_path: Path) -> None:
    """The types bite: sendMessage wants {message: string}."""
    wrong = tmp_path / "wrong.ts"
    api = (ROOT / "clients/typescript/api.js").as_posix()
    wrong.write_text(
        f'import type {{ ChatClient }} from "{api}";\n'
        "export async function f(c: ChatClient) { await c.sendMessage({ text: 1 }); }\n"
    )
    result = tsc("--noEmit", *SOURCES, str(wrong))
    assert result.returncode != 0
    assert "text" in result.stdout


@pytest.fixture(scope="module")
def compiled(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ts")
    result = tsc(
        "--outDir", str(out), "--rootDir", ".", *SOURCES, "tests/clients/seed_flow.test.ts"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return out / "tests" / "clients" / "seed_flow.test.js"


@pytest.mark.parametrize("protocol", ["plain", "json.webpubsub.azure.v1", "sdk"])
def test_a_node_test_drives_the_seed_flow_with_the_typescript_client(
    stack: LocalStack, compiled: Path, protocol: str
) -> None:
    env = {
        **os.environ,
        "BASE_URL": stack.host_url,
        "WPS_PROTOCOL": protocol,
        "NODE_PATH": str(ROOT / "node_modules"),  # the compiled test lives outside the repo
    }
    result = subprocess.run(
        ["node", "--test", "--test-reporter=tap", str(compiled)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# pass 5\n" in result.stdout and "# fail 0\n" in result.stdout, result.stdout


def test_the_committed_browser_modules_are_fresh() -> None:
    """clients/typescript/dist is what `make clients` compiles from the committed sources."""
    sources = {p.name: p.read_text() for p in (ROOT / "clients/typescript").glob("*.ts")}
    compiled = compile_modules(sources)
    assert sorted(compiled) == ["api.js", "runtime.js"]
    for name, text in compiled.items():
        assert (ROOT / "clients/typescript/dist" / name).read_text() == text, "run `make clients`"
