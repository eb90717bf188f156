"""Log lines of the local stack: timestamped, and with every secret taken out.

Access tokens, signatures, keys and the webhook's `code` are replaced before a line is written,
whoever logged it (our code, aiohttp's access log, an SDK, a traceback).
"""

from __future__ import annotations

import logging
import re
import sys
import time

HIDDEN = "<hidden>"
_SECRETS = [
    # A JWT (client access tokens, REST bearer tokens, the app's own session tokens).
    (re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), HIDDEN),
    # Secrets carried in a URL's query (`?code=`, `&access_token=`, ...) or a JSON field.
    (
        re.compile(
            r"(?i)([?&](?:access_token|code|sig|awps_reconnection_token|token)=)[^&\s\"'#]+"
        ),
        rf"\1{HIDDEN}",
    ),
    (re.compile(r'(?i)("(?:reconnectionToken|accessToken|token)"\s*:\s*")[^"]+'), rf"\1{HIDDEN}"),
    # ce-signature values.
    (re.compile(r"(?i)\bsha256=[0-9a-f]{8,}"), f"sha256={HIDDEN}"),
    # Keys in connection strings.
    (re.compile(r"(?i)\b(AccessKey|AccountKey|SharedAccessKey)=([^;\s\"']+)"), rf"\1={HIDDEN}"),
    (re.compile(r"(?i)\b(Bearer|SharedKey)\s+[^\s\"',]+"), rf"\1 {HIDDEN}"),
    (re.compile(r"(?i)\b(x-functions-key|authorization)(\s*[:=]\s*)[^\s\"',]+"), rf"\1\2{HIDDEN}"),
]


# Every pattern above needs one of these (lower-cased); a line with none is written as it is,
# so the common line (an invocation's) costs one pass instead of seven regex scans.
_MARKERS = ("eyj", "token", "code=", "sig=", "sha256=", "key", "bearer", "authorization")


def redact(text: str) -> str:
    """`text` with every access token, signature and key replaced by <hidden>."""
    lowered = text.lower()
    if not any(marker in lowered for marker in _MARKERS):
        return text
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(logging.Formatter):
    """A formatter whose output (message, arguments and traceback) carries no secret."""

    _second = -1
    _stamp = ""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        """As logging's, with the date and time made once a second, not once a line."""
        if datefmt is not None:
            return super().formatTime(record, datefmt)
        second = int(record.created)
        if second != self._second:
            self._second = second
            self._stamp = time.strftime(self.default_time_format, self.converter(second))
        return f"{self._stamp},{int(record.msecs):03d}"


def setup(fmt: str = "%(message)s", *filters: logging.Filter) -> None:
    """Root logging for one piece of the stack: `<time> <level> <fmt>` on stdout, redacted."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingFormatter(f"%(asctime)s %(levelname)s {fmt}"))
    for item in filters:
        handler.addFilter(item)
    # What no line shows is not gathered for each record (the logging HOWTO's optimizations):
    # the caller's frame, the thread, the process.
    logging._srcfile = None
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # azure-core logs every request and response with its headers at INFO: noise here.
    logging.getLogger("azure").setLevel(logging.WARNING)
