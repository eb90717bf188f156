"""A small HTTP/1.1 client with keep-alive connections, for the emulator's upstream events.

The service sends every event as one HTTP request to the hub's event handler and reuses its
connections. aiohttp's client did the same at about four times the CPU a request (a profile
of `bench.stack_echo`: a third of the emulator's time); this one does only what the events
need: a request with a body, an answer with a status, headers and a body (Content-Length,
chunked, or to the end of the connection), `Connection: close` honoured, http and https.
Everything that goes wrong is an HttpError, a late answer a TimeoutError.
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass, field
from urllib.parse import urlsplit

MAX_HEADER_BYTES = 64 * 1024
# An answer larger than this is refused (an event's answer carries at most one 1 MB message).
MAX_BODY_BYTES = 16 * 1024 * 1024
_NO_BODY = {204, 304}


class HttpError(Exception):
    """The request could not be sent or its answer could not be read."""


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: dict[str, list[str]]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None


@dataclass
class _Connection:
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    def usable(self) -> bool:
        return not (self.writer.is_closing() or self.reader.at_eof())

    def close(self) -> None:
        self.writer.close()


@dataclass(frozen=True)
class _Origin:
    scheme: str
    host: str
    port: int

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else f"{self.host}:{self.port}"


def _origin_and_target(url: str) -> tuple[_Origin, str]:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise HttpError(f"not an http(s) URL: {parts.scheme}://{parts.netloc}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Origin(parts.scheme, parts.hostname, port), target


@dataclass
class Http1Client:
    """Idle connections kept per origin and reused; one request at a time on each."""

    connect_timeout: float
    _idle: dict[_Origin, list[_Connection]] = field(default_factory=dict)
    _tls: ssl.SSLContext | None = None

    async def request(
        self,
        method: str,
        url: str,
        headers: dict[str, str],
        body: bytes = b"",
        answer_within: float | None = None,
    ) -> HttpResponse:
        """Send and read the answer; `answer_within` (seconds) bounds the answer, counted
        from the send (the connect has its own `connect_timeout`): TimeoutError past it."""
        origin, target = _origin_and_target(url)
        connection = await self._connection(origin)
        try:
            async with asyncio.timeout(answer_within):
                response, reusable = await self._exchange(
                    connection, origin, method, target, headers, body
                )
        except BaseException:
            connection.close()  # a half-read answer leaves the connection unusable
            raise
        if reusable:
            self._idle.setdefault(origin, []).append(connection)
        else:
            connection.close()
        return response

    async def _connection(self, origin: _Origin) -> _Connection:
        idle = self._idle.get(origin, [])
        while idle:
            connection = idle.pop()
            if connection.usable():
                return connection
            connection.close()
        tls: ssl.SSLContext | None = None
        if origin.scheme == "https":
            tls = self._tls = self._tls or ssl.create_default_context()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(origin.host, origin.port, ssl=tls, limit=MAX_HEADER_BYTES),
                self.connect_timeout,
            )
        except (OSError, TimeoutError) as exc:
            raise HttpError(f"cannot connect to {origin.host}:{origin.port}: {exc!r}") from exc
        return _Connection(reader, writer)

    async def _exchange(
        self,
        connection: _Connection,
        origin: _Origin,
        method: str,
        target: str,
        headers: dict[str, str],
        body: bytes,
    ) -> tuple[HttpResponse, bool]:
        lines = [f"{method} {target} HTTP/1.1", f"Host: {origin.host_header}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            connection.writer.write(head + body)
            if len(body) > 65536:
                await connection.writer.drain()
            return await self._read_response(connection.reader, method)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
            raise HttpError(f"{method} to {origin.host}:{origin.port} failed: {exc!r}") from exc

    async def _read_response(
        self, reader: asyncio.StreamReader, method: str
    ) -> tuple[HttpResponse, bool]:
        while True:
            raw = await reader.readuntil(b"\r\n\r\n")
            status_line, *header_lines = raw[:-4].decode("latin-1").split("\r\n")
            version, _, rest = status_line.partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/1.") or not code.isdigit():
                raise HttpError(f"not an HTTP/1.x answer: {status_line[:80]!r}")
            status = int(code)
            if not 100 <= status < 200 or status == 101:
                break  # 1xx answers come before the real one
        headers: dict[str, list[str]] = {}
        for line in header_lines:
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise HttpError(f"malformed header line {line[:80]!r}")
            headers.setdefault(name.lower(), []).append(value.strip())
        connection_tokens = {
            t.strip().lower() for v in headers.get("connection", []) for t in v.split(",")
        }
        keep_alive = "close" not in connection_tokens and version == "HTTP/1.1"
        encoding = ",".join(headers.get("transfer-encoding", [])).lower()
        lengths = headers.get("content-length", [])
        if method == "HEAD" or status in _NO_BODY:
            body = b""
        elif "chunked" in encoding:
            body = await _read_chunked(reader)
        elif lengths:
            if len(set(lengths)) != 1 or not lengths[0].isdigit():
                raise HttpError(f"bad Content-Length {lengths!r}")
            length = int(lengths[0])
            if length > MAX_BODY_BYTES:
                raise HttpError(f"answer of {length} bytes is too large")
            body = await reader.readexactly(length)
        else:  # the body runs to the end of the connection
            body = await reader.read(MAX_BODY_BYTES + 1)
            while len(body) <= MAX_BODY_BYTES and not reader.at_eof():
                more = await reader.read(MAX_BODY_BYTES + 1 - len(body))
                if not more:
                    break
                body += more
            if len(body) > MAX_BODY_BYTES:
                raise HttpError("answer is too large")
            keep_alive = False
        return HttpResponse(status, headers, body), keep_alive

    def close(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = (await reader.readuntil(b"\r\n"))[:-2].split(b";", 1)[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError as exc:
            raise HttpError(f"bad chunk size {size_line[:20]!r}") from exc
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                pass
            return b"".join(parts)
        total += size
        if total > MAX_BODY_BYTES:
            raise HttpError("answer is too large")
        parts.append(await reader.readexactly(size))
        if await reader.readexactly(2) != b"\r\n":
            raise HttpError("chunk not followed by CRLF")
