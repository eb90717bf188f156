"""`POST /admin/functions/{name}`: run a non-HTTP function now (Core Tools' admin endpoint).

Read from azure-functions-host `WebJobs.Script.WebHost/Controllers/FunctionsController.cs`
(Invoke): `[Authorize(Policy = PolicyNames.AdminAuthLevel)]`, so only the master key passes
(`x-functions-key` header or `?code=`); a body that is not a `FunctionInvocation`
(`{"input": ...}`) is 400; an unknown function (names compared case-insensitively) is 404;
the invocation is started in the background and the answer is 202 Accepted at once.

This host keeps the check off unless it is given a master key (Core Tools runs its admin API
unauthenticated locally); the local stack gives one whenever it checks keys. It invokes timer
functions here (their input is ignored: the timer binding makes a fresh TimerInfo); other
triggers get 400 saying so.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging

from aiohttp import web

from devstack.funchost.timers import TimerListener

log = logging.getLogger("devstack.funchost")
KEY_HEADER = "x-functions-key"


def key_matches(request: web.Request, *keys: str | None) -> bool:
    """`?code=` or `x-functions-key` is one of `keys` (compared in constant time)."""
    given = (request.query.get("code") or request.headers.get(KEY_HEADER) or "").encode()
    return any(key and hmac.compare_digest(given, key.encode()) for key in keys)


class AdminInvoke:
    def __init__(
        self, names: list[str], timers: list[TimerListener], master_key: str | None
    ) -> None:
        self.names = {name.lower(): name for name in names}
        self.timers = {t.spec.name.lower(): t for t in timers}
        self.master_key = master_key
        self.running: set[asyncio.Task[bool]] = set()

    async def handle(self, request: web.Request) -> web.Response:
        if self.master_key and not key_matches(request, self.master_key):
            log.warning("Admin API: refused a request without the master key: 401")
            return web.Response(status=401)
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return web.Response(status=400, text='expected a JSON body {"input": ...}')
        name = request.match_info["name"].lower()
        timer = self.timers.get(name)
        if timer is None:
            if name in self.names:
                return web.Response(
                    status=400,
                    text="this local host runs only timer functions through the admin endpoint",
                )
            return web.Response(status=404)
        task = asyncio.create_task(timer.run_now(), name=f"admin {timer.spec.name}")
        self.running.add(task)
        task.add_done_callback(self.running.discard)
        return web.Response(status=202)

    async def close(self) -> None:
        """Wait for invocations still running (the host is stopping)."""
        if self.running:
            await asyncio.gather(*self.running, return_exceptions=True)
