"""A channel's route (`/chat/:room`): where negotiate finds it, and the opening data it carries."""

from __future__ import annotations

import re

from shared.core.errors import WiringError

_PARAM = re.compile(r"^:([A-Za-z_][A-Za-z0-9_]*)$")


class RoutePattern:
    """Literal segments and `:name` parameters; `/chat/:room` matches `/chat/general`."""

    def __init__(self, route: str) -> None:
        self.route = route
        self.segments: list[tuple[bool, str]] = []  # (is a parameter, literal or name)
        for segment in route.strip("/").split("/") if route.strip("/") else []:
            param = _PARAM.match(segment)
            if segment.startswith(":") and param is None:
                raise WiringError(f"route {route!r}: {segment!r} is not a parameter name")
            if not segment:
                raise WiringError(f"route {route!r} has an empty segment")
            self.segments.append((param is not None, param.group(1) if param else segment))
        self.params = [name for is_param, name in self.segments if is_param]
        if len(set(self.params)) != len(self.params):
            raise WiringError(f"route {route!r} names a parameter twice")

    @property
    def shape(self) -> str:
        """Two routes of the same shape would match the same paths."""
        return "/" + "/".join(":" if is_param else text for is_param, text in self.segments)

    def match(self, path: str) -> dict[str, str] | None:
        parts = path.strip("/").split("/") if path.strip("/") else []
        if len(parts) != len(self.segments):
            return None
        params: dict[str, str] = {}
        for (is_param, text), part in zip(self.segments, parts, strict=True):
            if is_param:
                if not part:
                    return None
                params[text] = part
            elif part != text:
                return None
        return params
