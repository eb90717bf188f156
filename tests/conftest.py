"""Services the tests need, started once per run and stopped at its end.

Azurite (Table Storage) is real; Web PubSub's REST API is a recorder at the unit level
(tests/support/recorder.py) and the project's emulator at the end-to-end level.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Generator, Iterator

import pytest

from devstack.azurite import Azurite, free_port
from devstack.rest_recorder import RestRecorder
from devstack.stack import LocalStack

JWT_SECRET = "unit-test-secret-" + "0123456789abcdef" * 4  # 81 bytes: long enough for HS512 too


@pytest.fixture(scope="session")
def azurite() -> Iterator[Azurite]:
    with Azurite(port=free_port()) as server:
        yield server


@pytest.fixture(scope="session")
async def recorder() -> AsyncIterator[RestRecorder]:
    server = RestRecorder()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture(scope="session")
def app_settings(azurite: Azurite, recorder: RestRecorder) -> Iterator[dict[str, str]]:
    """The app settings function_app.py runs with in these tests (as in local.settings.json)."""
    values = {
        "AzureWebJobsStorage": azurite.connection_string,
        "WebPubSubConnectionString": recorder.connection_string,
        "WebPubSubHub": "channels",
        "JWT_SECRET": JWT_SECRET,
        "GUEST_LOGIN": "true",
    }
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    yield values
    for key, old in saved.items():
        if old is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = old


# Whatever the environment of the run holds (app_settings above changes it), the stack
# serves guest tokens on the hub the end-to-end tests name. Its JWT secret is this run's own,
# so that a test can look for it in the stack's logs, and tests can sign tokens the stack
# accepts (a moderator's) with it.
STACK_SETTINGS = {
    "GUEST_LOGIN": "true",
    "WebPubSubHub": "channels",
    "JWT_SECRET": "stack-" + secrets.token_urlsafe(40),
}


@pytest.fixture(scope="session")
def stack() -> Iterator[LocalStack]:
    """The whole local stack (Azurite, Web PubSub emulator, Functions host), once per run.

    As strict as Azure: the host checks the webhook's `?code=` (the emulator's event handler
    URL carries it). A child that stops fails the run with its name, last lines and log folder.
    """
    with LocalStack(settings=STACK_SETTINGS, webhook_key=secrets.token_urlsafe(24)) as running:
        yield running
        running.check()  # a child that died during the run fails the last teardown


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """A failed test that used the stack shows the stack's log folder and last lines (kept)."""
    report = yield
    running = getattr(item, "funcargs", {}).get("stack")
    if report.failed and isinstance(running, LocalStack):
        running.failed = True  # keep the logs of this run
        report.sections.append(("local stack logs", running.tails()))
    return report
