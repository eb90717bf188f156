"""What the app serves over plain HTTP, beside its channels: one list for every adapter.

function_app.py (Azure Functions) and `python -m shared.local` (the plain WebSocket server)
both serve these, at `/api/<route>`.
"""

from __future__ import annotations

from pathlib import Path

from channels.auth import guest_token
from channels.chat import broadcast_to_room
from shared.core.http import HttpRoute

STATIC = Path(__file__).parent / "static"

http_routes = [
    HttpRoute("POST", "token", guest_token),
    HttpRoute("POST", "broadcast", broadcast_to_room),
]

pages = {"chat": STATIC / "chat.html"}
"""`GET /api/<name>` answers the file (HTML): the reference chat page."""
