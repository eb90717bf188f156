"""What the plain WebSocket server takes from an app module (`--app channels`).

The module wires its channels when imported and may expose `services` (an `AppServices`),
`http_routes` (a list of `HttpRoute`) and `pages` (`{name: path of an HTML file}`), the same
names function_app.py serves on Azure.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.core.http import HttpRoute
from shared.core.services import AppServices
from shared.core.wiring import ChannelRegistry, default_registry


class AppModuleError(Exception):
    """The app module is missing or exposes something of the wrong kind; says which."""


@dataclass(frozen=True)
class LocalApp:
    registry: ChannelRegistry = field(default_factory=lambda: default_registry)
    services: AppServices | None = None
    http_routes: tuple[HttpRoute, ...] = ()
    pages: Mapping[str, Path] = field(default_factory=dict)


def load_app(name: str) -> LocalApp:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and name.startswith(exc.name):
            raise AppModuleError(f"no app module {name!r} (run from the project folder)") from exc
        raise
    services = getattr(module, "services", None)
    if services is not None and not isinstance(services, AppServices):
        raise AppModuleError(f"{name}.services must be an AppServices, not {type(services)!r}")
    routes = tuple(getattr(module, "http_routes", ()))
    for route in routes:
        if not isinstance(route, HttpRoute):
            raise AppModuleError(f"{name}.http_routes holds {route!r}: use HttpRoute(...)")
    pages = dict(getattr(module, "pages", {}))
    for page, path in pages.items():
        if not isinstance(path, Path) or not path.is_file():
            raise AppModuleError(f"{name}.pages[{page!r}] must be the Path of a file: {path!r}")
    registry = getattr(module, "registry", default_registry)
    if not isinstance(registry, ChannelRegistry):
        raise AppModuleError(f"{name}.registry must be a ChannelRegistry")
    if not registry.channels:
        raise AppModuleError(f"importing {name!r} wired no channel")
    return LocalApp(registry, services, routes, pages)
