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
from azure.functions.meta import Datum
from azure.functions.timer import TimerRequestConverter

from devstack.funchost import wps_bindings
from devstack.funchost.invoke import call, invocation_label, log_invocation, prepare
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

    async def execute(
        self, spec: FunctionSpec, trigger_value: Any, binding_data: Mapping[str, str]
    ) -> Any:
        """Invoke `spec` with its bindings; the value its HTTP output (or return) carries."""
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
        return http_result

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
            response = respond(await self.execute(spec, trigger_value, binding_data))
        except Exception as exc:
            _log_failure(spec, exc)
            answer = await on_error(exc)
            log_invocation(spec.name, False, started, answer.status if answer else None)
            return answer or web.Response(status=500)  # nobody reads it: the caller has gone
        log_invocation(spec.name, True, started, response.status)
        return response

    async def run_timer(self, spec: FunctionSpec, timer_info: str) -> bool:
        """Invoke a timer function with the TimerInfo JSON; False when it raised (logged)."""
        invocation_label.set(f"timer {spec.name}")
        started = time.perf_counter()
        try:
            # The worker's own conversion: the library builds func.TimerRequest from the JSON.
            request = TimerRequestConverter.decode(Datum(timer_info, "json"), trigger_metadata=None)
            await self.execute(spec, request, {})
        except Exception as exc:
            _log_failure(spec, exc)
            log_invocation(spec.name, False, started)
            return False
        log_invocation(spec.name, True, started)
        return True


def _log_failure(spec: FunctionSpec, exc: BaseException) -> None:
    log.exception("Function '%s' failed: %s: %s", spec.name, type(exc).__name__, exc)


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
