"""Log lines of the local stack carry no secret, whatever wrote them."""

from __future__ import annotations

import logging
import sys

import pytest

from devstack.logs import HIDDEN, RedactingFormatter, redact

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZGEifQ.c2lnbmF0dXJl"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f'"GET /client/hubs/chat?access_token={JWT}&room=a HTTP/1.1" 101', JWT),
        ("POST /runtime/webhooks/webpubsub?code=sys-key-123 HTTP/1.1", "sys-key-123"),
        ("GET /client/hubs/chat?awps_connection_id=c&awps_reconnection_token=r3c0n", "r3c0n"),
        ("ce-signature: sha256=" + "ab" * 32, "ab" * 32),
        ("Endpoint=http://localhost:8080;AccessKey=K3yK3yK3y;Version=1.0;", "K3yK3yK3y"),
        ("DefaultEndpointsProtocol=http;AccountName=a;AccountKey=Zm9vYmFy==;", "Zm9vYmFy=="),
        (f"Authorization: Bearer {JWT}", JWT),
        ('{"reconnectionToken":"tok-123","userId":"ada"}', "tok-123"),
        ("x-functions-key: k-456", "k-456"),
    ],
)
def test_redact_hides_tokens_signatures_and_keys(line: str, secret: str) -> None:
    shown = redact(line)
    assert secret not in shown
    assert HIDDEN in shown


def test_redact_keeps_what_is_not_a_secret() -> None:
    line = "connect conn=abc123 Executed 'Functions.webpubsub_connect' (Succeeded, 200, 5 ms)"
    assert redact(line) == line
    assert (
        redact("devstack: azurite stopped (exit code 1)")
        == "devstack: azurite stopped (exit code 1)"
    )


def test_the_formatter_redacts_arguments_and_tracebacks() -> None:
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ValueError(f"bad token {JWT}")
    except ValueError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "url %s", ("?code=s3cret",), None
        )
        record.exc_info = sys.exc_info()
    text = formatter.format(record)
    assert "s3cret" not in text and JWT not in text
    assert "ValueError: bad token <hidden>" in text
