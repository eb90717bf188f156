"""The emulator's HTTP/1.1 client reads every answer form an event handler may give, reuses
its connections, and turns anything malformed into an HttpError (never a hang or a crash)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from devstack.webpubsub.http1 import MAX_BODY_BYTES, Http1Client, HttpError

Answer = Callable[[bytes], bytes]
Serve = Callable[..., Awaitable[tuple["RawServer", str]]]


class RawServer:
    """Answers each request with `answer(request bytes)`; counts the connections it accepted."""

    def __init__(self, answer: Answer, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                request = head + await reader.readexactly(length)
                self.requests.append(request)
                writer.write(self.answer(request))
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


@pytest.fixture
async def serve() -> AsyncIterator[Serve]:
    servers: list[asyncio.Server] = []

    async def start(answer: Answer, close_after: bool = False) -> tuple[RawServer, str]:
        raw = RawServer(answer, close_after)
        server = await asyncio.start_server(raw.handle, "127.0.0.1", 0)
        servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return raw, f"http://127.0.0.1:{port}/runtime/webhooks/webpubsub?code=k"

    yield start
    for server in servers:
        server.close()


def fixed(body: bytes, extra: str = "") -> Answer:
    head = (
        f"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n{extra}Content-Length: {len(body)}\r\n\r\n"
    )
    return lambda _request: head.encode() + body


async def test_answers_with_a_length_are_read_and_the_connection_is_reused(serve: Serve) -> None:
    raw, url = await serve(fixed(b"hello", "ce-connectionState: abc\r\n"))
    client = Http1Client(connect_timeout=5)
    for _ in range(3):
        response = await client.request("POST", url, {"ce-id": "1"}, b'{"a":1}')
        assert (response.status, response.body) == (200, b"hello")
        assert response.header("CE-CONNECTIONSTATE") == "abc"
    assert raw.connections == 1
    first = raw.requests[0]
    assert first.startswith(b"POST /runtime/webhooks/webpubsub?code=k HTTP/1.1\r\n")
    assert b"\r\nHost: 127.0.0.1:" in first and first.endswith(b'Content-Length: 7\r\n\r\n{"a":1}')
    client.close()


async def test_chunked_answers_and_interim_answers_are_read(serve: Serve) -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nTrailer: x\r\n\r\n"
    )
    raw, url = await serve(lambda _r: answer)
    client = Http1Client(connect_timeout=5)
    for _ in range(2):
        response = await client.request("POST", url, {}, b"x")
        assert (response.status, response.body) == (200, b"hello world")
    assert raw.connections == 1
    client.close()


async def test_an_answer_to_the_end_of_the_connection_or_with_close_is_not_reused(
    serve: Serve,
) -> None:
    raw, url = await serve(lambda _r: b"HTTP/1.1 200 OK\r\n\r\nall of it", close_after=True)
    client = Http1Client(connect_timeout=5)
    for _ in range(2):
        assert (await client.request("POST", url, {}, b"")).body == b"all of it"
    assert raw.connections == 2
    raw, url = await serve(fixed(b"", "Connection: close\r\n"), close_after=True)
    for _ in range(2):
        assert (await client.request("POST", url, {}, b"")).status == 200
    assert raw.connections == 2
    client.close()


@pytest.mark.parametrize(
    "answer",
    [
        b"SPDY/3 200 OK\r\n\r\n",
        b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
        b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n bad header\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        f"HTTP/1.1 200 OK\r\nContent-Length: {MAX_BODY_BYTES + 1}\r\n\r\n".encode(),
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # then the connection closes
    ],
)
async def test_a_malformed_answer_is_an_http_error(serve: Serve, answer: bytes) -> None:
    _, url = await serve(lambda _r: answer, close_after=True)
    client = Http1Client(connect_timeout=5)
    with pytest.raises(HttpError):
        await client.request("POST", url, {}, b"")
    client.close()


async def test_an_unreachable_handler_is_an_http_error() -> None:
    client = Http1Client(connect_timeout=5)
    with pytest.raises(HttpError, match="cannot connect"):
        await client.request("POST", "http://127.0.0.1:9/x", {}, b"")
    with pytest.raises(HttpError, match="not an http"):
        await client.request("POST", "ftp://127.0.0.1/x", {}, b"")


async def test_a_late_answer_is_a_timeout_and_its_connection_is_not_reused(
    serve: Serve,
) -> None:
    _, url = await serve(lambda _r: b"HTTP/1.1 200 OK\r\n")  # the rest never comes
    client = Http1Client(connect_timeout=5)
    with pytest.raises(TimeoutError):
        await client.request("POST", url, {}, b"", answer_within=0.2)
    assert client._idle == {}
    client.close()
