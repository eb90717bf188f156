"""The reference app's channels. Importing this package wires them.

What a runtime takes from the app: `services` (its own services), `http_routes` and `pages`
(what it serves over plain HTTP). Every adapter reads these three names.
"""

from channels import board, chat, examples
from channels.routes import http_routes, pages
from channels.services import services

__all__ = ["board", "chat", "examples", "http_routes", "pages", "services"]
