"""The plain WebSocket adapter: the same channels with no Azure at all (`python -m shared.local`).

For development and self-hosting on one machine: topics, connection records, sessions and the
database live in the process. Beyond one machine, deploy to Azure (shared/azure).
Imports shared.core only.
"""

from shared.local.app import AppModuleError, LocalApp, load_app
from shared.local.server import LocalRuntime, Running, create_app, start

__all__ = [
    "AppModuleError",
    "LocalApp",
    "LocalRuntime",
    "Running",
    "create_app",
    "load_app",
    "start",
]
