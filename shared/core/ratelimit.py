"""Rate limits: `rate_limit="20/10s"` on a channel, an action or an HTTP function.

A limit is a GCRA (generic cell rate algorithm): one timestamp per limit (the theoretical
arrival time) says everything, so a connection's limits fit in its states copy and the hot path
reads no table. A burst of `count` passes at once, then one call per `period / count`.
"""

from __future__ import annotations

import math
import re
import time
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.core.errors import TooManyRequestsError, WiringError

STATE_KEY = "rate"  # the connection state holding {scope: theoretical arrival time in ms}
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_FORMAT = re.compile(r"^\s*(\d+)\s*/\s*(\d*(?:\.\d+)?)\s*(ms|s|m|h)\s*$")


@dataclass(frozen=True)
class RateLimit:
    """`count` calls per `period` seconds (GCRA)."""

    count: int
    period: float  # seconds

    @classmethod
    def parse(cls, text: str | RateLimit | None) -> RateLimit | None:
        """`"20/10s"`, `"5/s"`, `"100/1m"`, `"1000/h"`; `WiringError` saying the format."""
        if text is None or isinstance(text, RateLimit):
            return text
        match = _FORMAT.match(text) if isinstance(text, str) else None
        count = int(match.group(1)) if match else 0
        period = float(match.group(2) or 1) * _UNITS[match.group(3)] if match else 0.0
        if count < 1 or period <= 0:
            raise WiringError(
                f"rate_limit {text!r}: write '<count>/<period>' with a unit ms, s, m or h, "
                "for example '20/10s'"
            )
        return cls(count, period)

    def __str__(self) -> str:
        return f"{self.count}/{self.period:g}s"

    @property
    def interval_ms(self) -> int:
        return max(1, round(self.period * 1000 / self.count))

    def take(self, arrival_ms: int | None, now_ms: int) -> tuple[int | None, float]:
        """One call at `now_ms`: (the new arrival time, 0) when it passes, else (None, the
        seconds to wait)."""
        new = max(arrival_ms or 0, now_ms) + self.interval_ms
        allowed_at = new - round(self.period * 1000)
        if now_ms < allowed_at:
            return None, math.ceil((allowed_at - now_ms) / 100) / 10  # tenths, rounded up
        return new, 0.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def _refused(limit: RateLimit, wait: float, who: str) -> TooManyRequestsError:
    return TooManyRequestsError(
        f"too many requests: {who} allows {limit.count} per {limit.period:g} s; "
        f"try again in {wait:g} s",
        retry_after=wait,
    )


def take_all(
    limits: Sequence[tuple[str, RateLimit]], state: Any, now: int | None = None
) -> dict[str, int] | None:
    """Count one call against each `(scope, limit)`, all or nothing.

    `state` is the connection's `{scope: arrival ms}` (anything else counts as empty). Returns
    the state to keep, or None when no limit applies; raises `TooManyRequestsError` with the
    longest wait when one refuses (nothing is counted then).
    """
    if not limits:
        return None
    now = now_ms() if now is None else now
    current: Mapping[str, Any] = state if isinstance(state, dict) else {}
    updated = {k: v for k, v in current.items() if isinstance(v, int)}
    worst: tuple[float, RateLimit, str] | None = None
    for scope, limit in limits:
        new, wait = limit.take(updated.get(scope), now)
        if new is None:
            if worst is None or wait > worst[0]:
                worst = (wait, limit, "this channel" if scope == "*" else f"'{scope}'")
        else:
            updated[scope] = new
    if worst is not None:
        raise _refused(worst[1], worst[0], worst[2])
    # drop scopes whose time has passed: they would pass a full burst anyway
    return {k: v for k, v in updated.items() if v > now}


class UserRateLimiter:
    """Per-user limits of HTTP routes, in this process's memory (see README: across instances
    each instance counts on its own). Bounded: the least recently seen users are forgotten."""

    def __init__(self, max_users: int = 10_000) -> None:
        self._arrivals: OrderedDict[tuple[str, str], int] = OrderedDict()
        self._max = max_users

    def take(self, route: str, user_id: str, limit: RateLimit, now: int | None = None) -> None:
        key = (route, user_id)
        new, wait = limit.take(self._arrivals.get(key), now_ms() if now is None else now)
        if new is None:
            raise _refused(limit, wait, route)
        self._arrivals[key] = new
        self._arrivals.move_to_end(key)
        while len(self._arrivals) > self._max:
            self._arrivals.popitem(last=False)
