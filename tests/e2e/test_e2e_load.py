"""The local stack under load loses nothing: the CI-sized load run (`make soak`: 1,000 x 10).

Every connection of a room sends its messages back to back; every reply and every broadcast
must arrive, once, in the order each sender sent them. Latencies are printed, never asserted.
"""

from __future__ import annotations

import pytest

from bench import soak
from devstack.stack import LocalStack

pytestmark = pytest.mark.e2e

CONNECTIONS, MESSAGES, ROOMS = 100, 5, 10


async def test_many_connections_sending_at_once_lose_no_reply_or_broadcast(
    stack: LocalStack, capsys: pytest.CaptureFixture[str]
) -> None:
    pids = {child.name: child.pid for child in stack.children if child.pid is not None}
    figures = await soak.run(stack.host_url, CONNECTIONS, MESSAGES, ROOMS, pids)
    with capsys.disabled():
        soak.report(figures)
    assert figures.messages == CONNECTIONS * MESSAGES
    assert figures.broadcasts_expected == CONNECTIONS * MESSAGES * (CONNECTIONS // ROOMS - 1)
    assert (figures.replies_lost, figures.broadcasts_lost) == (0, 0)
    assert (figures.out_of_order, figures.duplicates, figures.errors) == (0, 0, 0)
    assert len(figures.reply_ms) == CONNECTIONS * MESSAGES
    assert set(figures.memory_kb) == {"load client", "azurite", "webpubsub", "funchost"}
