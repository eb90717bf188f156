"""Emulator settings: where it listens, its key, and where each hub's events go."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from shared.azure.settings import EMULATOR_CONNECTION_STRING

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
DEFAULT_UPSTREAM_URL = "http://localhost:7071/runtime/webhooks/webpubsub"
SYSTEM_EVENTS = frozenset({"connect", "connected", "disconnected"})
MAX_FRAME_SIZE = 1024 * 1024
# The service waits this long for an event handler's answer (then a connect is refused and a
# user event drops the client).
DEFAULT_UPSTREAM_TIMEOUT = 30.0
DEFAULT_UPSTREAM_CONCURRENCY = 64


def parse_connection_string(connection_string: str) -> dict[str, str]:
    """`Endpoint=...;AccessKey=...;Version=1.0;` -> lower-cased keys to values."""
    parts: dict[str, str] = {}
    for segment in connection_string.split(";"):
        if not segment.strip():
            continue
        key, sep, value = segment.partition("=")
        if not sep:
            raise ValueError(f"malformed connection string segment {segment!r}")
        parts[key.strip().lower()] = value.strip()
    return parts


DEFAULT_ACCESS_KEY = parse_connection_string(EMULATOR_CONNECTION_STRING)["accesskey"]


@dataclass(frozen=True)
class UpstreamConfig:
    """One hub's event handler, as the service's hub settings describe it."""

    url: str
    system_events: frozenset[str] = SYSTEM_EVENTS
    # "*" for every user event, else a comma-separated list of event names.
    user_events: str = "*"

    def handles_user_event(self, name: str) -> bool:
        pattern = self.user_events.strip()
        if pattern == "*":
            return True
        return name in {p.strip() for p in pattern.split(",") if p.strip()}


@dataclass(frozen=True)
class EmulatorConfig:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT  # 0 picks a free port
    access_key: str = DEFAULT_ACCESS_KEY
    # Per hub (case-insensitive); `None` as a value means "no event handler".
    upstreams: Mapping[str, UpstreamConfig | None] = field(default_factory=dict)
    default_upstream: UpstreamConfig | None = UpstreamConfig(DEFAULT_UPSTREAM_URL)
    # How long a dropped reliable connection waits for its client to recover it.
    grace_period: float = 30.0
    upstream_timeout: float = DEFAULT_UPSTREAM_TIMEOUT
    # Upstream requests outstanding at once (more wait their turn, untimed).
    upstream_concurrency: int = DEFAULT_UPSTREAM_CONCURRENCY
    max_frame_size: int = MAX_FRAME_SIZE
    # Messages a reliable connection may hold un-acked before the service drops it.
    max_unacked: int = 10_000
    # Host name in the connection string and the `WebHook-Request-Origin` header.
    public_host: str = "localhost"

    def upstream_for(self, hub: str) -> UpstreamConfig | None:
        lowered = {name.lower(): value for name, value in self.upstreams.items()}
        if hub.lower() in lowered:
            return lowered[hub.lower()]
        return self.default_upstream


def parse_upstreams(specs: Iterable[str]) -> dict[str, UpstreamConfig | None]:
    """`hub=url` items (`hub=none` turns a hub's handler off) into per-hub settings."""
    result: dict[str, UpstreamConfig | None] = {}
    for spec in specs:
        hub, sep, url = spec.partition("=")
        if not sep or not hub.strip():
            raise ValueError(f"expected hub=url, got {spec!r}")
        url = url.strip()
        if url.lower() in {"", "none", "off"}:
            result[hub.strip()] = None
            continue
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError(f"upstream URL must be http(s): {url!r}")
        result[hub.strip()] = UpstreamConfig(url)
    return result
