"""The runtime's loggers: records that cannot forge log lines and carry the event's fields.

A value from a client (a user id, a room, a frame's text) may hold a newline or another
control character; written as is, it ends the line and starts one the reader believes. Every
record of these loggers has the control characters of its message, arguments and extra fields
escaped (`a\\nb` is written `a\\\\nb`) before any handler sees it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from shared.core import telemetry

# C0 and C1 controls and the Unicode line separators: each can end or forge a line
CONTROL_CHARACTERS = re.compile("[\\x00-\\x1f\\x7f-\\x9f\\u2028\\u2029]")
_STANDARD = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
}


def escape(text: str) -> str:
    """`text` with each control character written as its Python escape (`\\n`, `\\x01`)."""
    if not CONTROL_CHARACTERS.search(text):
        return text
    return CONTROL_CHARACTERS.sub(lambda m: repr(m.group())[1:-1], text)


def _escaped(value: Any) -> Any:
    return escape(value) if isinstance(value, str) else value


class ChannelRecords(logging.Filter):
    """Adds the event's fields to a record, and escapes the control characters of its
    message, arguments and extra fields."""

    def filter(self, record: logging.LogRecord) -> bool:
        fields = telemetry.event_fields()
        if fields:  # the event's fields become the record's attributes in telemetry
            for key, value in fields.items():
                record.__dict__.setdefault(key, value)
        record.msg = _escaped(record.msg)
        if isinstance(record.args, dict):
            record.args = {k: _escaped(v) for k, v in record.args.items()}
        elif record.args:
            record.args = tuple(_escaped(a) for a in record.args)
        for key, value in record.__dict__.items():
            if key not in _STANDARD and isinstance(value, str):
                record.__dict__[key] = escape(value)
        return True


_FILTER = ChannelRecords()


def channel_logger(name: str) -> logging.Logger:
    """The logger `name`, escaping control characters (installed once, however often asked)."""
    logger = logging.getLogger(name)
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)
    return logger
