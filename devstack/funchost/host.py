"""Runs one invocation: input bindings in, the user function, output bindings out, one log line."""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from types import ModuleType
from typing import Any

from aiohttp import web

from devstack.funchost import wps_bindings
from devstack.funchost.invoke import call, log_invocation, prepare
from devstack.funchost.loader import FunctionSpec
from devstack.funchost.worker_rules import encode_return, is_generic

log = logging.getLogger("devstack.funchost")
HTTP_OUTPUT = "http"
CLOSE_SECONDS = 5.0
_HANDLED_INPUTS = {wps_bindings.CONNECTION_TYPE}
_HANDLED_OUTPUTS = {HTTP_OUTPUT, wps_bindings.OUTPUT_TYPE}


def unsupported_bindings(spec: FunctionSpec) -> list[str]:
    """Bindings this host cannot provide (their parameters get None / are dropped)."""
    names = [f"{b.name} ({b.type})" for b in spec.inputs if b.type not in _HANDLED_INPUTS]
    names += [f"{b.name} ({b.type})" for b in spec.outputs if b.type not in _HANDLED_OUTPUTS]
    return names


class FunctionHost:
    def __init__(self, specs: list[FunctionSpec], app_module: ModuleType | None = None) -> None:
        self.specs = specs
        self.app_module = app_module
        self.clients = wps_bindings.ServiceClients()

    async def close(self) -> None:
        await self.clients.close()
        await close_app_objects(self.app_module)

    def _inputs(self, spec: FunctionSpec, binding_data: Mapping[str, str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for binding in spec.inputs:
            if binding.type == wps_bindings.CONNECTION_TYPE:
                values[binding.name] = wps_bindings.connection_info(binding, binding_data)
        return values

    async def run(
        self,
        spec: FunctionSpec,
        trigger_value: Any,
        binding_data: Mapping[str, str],
        respond: Callable[[Any], web.Response],
        on_error: Callable[[BaseException], Awaitable[web.Response | None]],
    ) -> web.Response:
        """Invoke `spec`; `respond` turns the trigger's result into the HTTP answer.

        A function that raises is logged (type, message, traceback), then `on_error` answers
        (None: it sent no answer, the caller gave up waiting).
        """
        started = time.perf_counter()
        try:
            values = self._inputs(spec, binding_data)
            values[spec.trigger.name] = trigger_value
            invocation = prepare(spec, values)
            result = await call(invocation)
            if is_generic(spec.trigger.type):
                result = encode_return(result)
            http_result: Any = result
            for binding in spec.outputs:
                value = invocation.output(binding.name, result)
                if binding.type == HTTP_OUTPUT:
                    http_result = value
                elif binding.type == wps_bindings.OUTPUT_TYPE:
                    await wps_bindings.send_actions(self.clients, binding, value)
            response = respond(http_result)
        except Exception as exc:
            log.exception("Function '%s' failed: %s: %s", spec.name, type(exc).__name__, exc)
            answer = await on_error(exc)
            log_invocation(spec.name, False, answer.status if answer else None, started)
            return answer or web.Response(status=500)  # nobody reads it: the caller has gone
        log_invocation(spec.name, True, response.status, started)
        return response


async def close_app_objects(module: ModuleType | None) -> None:
    """Close the app's module-level objects that have `async aclose()` (its SDK clients).

    The real worker is simply ended; closing them here keeps a stopped host quiet (no
    "Unclosed client session" warnings).
    """
    if module is None:
        return
    for name, value in list(vars(module).items()):
        if isinstance(value, type):
            continue
        closer = getattr(value, "aclose", None)
        if closer is None or not inspect.iscoroutinefunction(closer):
            continue
        try:
            await asyncio.wait_for(closer(), CLOSE_SECONDS)
        except Exception as exc:  # stopping anyway: say what did not close
            log.warning("could not close %s: %s: %s", name, type(exc).__name__, exc)
