"""App-wide rules: call middleware, frame middleware and permissions, for every call or by tag.

    registry.rules.add_middleware(audit)                       # every call
    registry.rules.add_permission(is_admin, tag="admin")       # calls tagged "admin"
    registry.rules.add_frame_middleware(redact, tag="chat")    # frames of channels tagged "chat"

A call's tags are its channel's tags and its function's `Docs.tags`. The order, outermost
first: app-wide rules, then by tag (in the order they were added), then the channel's, the
wiring entry's and the function's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from shared.core.services import FrameMiddleware, Middleware, Permission


@dataclass(frozen=True)
class Resolved:
    """The app-wide rules that apply to one set of tags (computed once per set)."""

    middleware: tuple[Middleware, ...] = ()
    frame_middleware: tuple[FrameMiddleware, ...] = ()
    permissions: tuple[Permission, ...] = ()


_NONE = Resolved()


class AppRules:
    def __init__(self) -> None:
        self._rules: list[tuple[str, str | None, Any]] = []  # (kind, tag or None, rule)
        self._cache: dict[tuple[str, ...], Resolved] = {}

    def add_middleware(self, middleware: Middleware, *, tag: str | None = None) -> None:
        """Wrap every call (or every call tagged `tag`): `async def mw(services, call, next_)`."""
        self._add("middleware", tag, middleware)

    def add_frame_middleware(self, middleware: FrameMiddleware, *, tag: str | None = None) -> None:
        """Wrap every outgoing frame (or those of channels tagged `tag`)."""
        self._add("frame_middleware", tag, middleware)

    def add_permission(self, check: Permission, *, tag: str | None = None) -> None:
        """Require `check(services, data, session)` to pass for every call (or tagged ones)."""
        self._add("permissions", tag, check)

    def _add(self, kind: str, tag: str | None, rule: Any) -> None:
        self._rules.append((kind, tag, rule))
        self._cache.clear()

    def resolve(self, tags: Sequence[str]) -> Resolved:
        if not self._rules:
            return _NONE
        key = tuple(tags)
        found = self._cache.get(key)
        if found is None:

            def pick(kind: str) -> tuple[Any, ...]:
                everywhere = [r for k, t, r in self._rules if k == kind and t is None]
                tagged = [r for k, t, r in self._rules if k == kind and t is not None and t in key]
                return (*everywhere, *tagged)

            found = Resolved(pick("middleware"), pick("frame_middleware"), pick("permissions"))
            self._cache[key] = found
        return found
