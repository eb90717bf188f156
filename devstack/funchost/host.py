"""Runs one invocation: input bindings in, the user function, output bindings out, one log line."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import web

from devstack.funchost import wps_bindings
from devstack.funchost.invoke import call, log_invocation, prepare
from devstack.funchost.loader import FunctionSpec

log = logging.getLogger("devstack.funchost")
HTTP_OUTPUT = "http"
_HANDLED_INPUTS = {wps_bindings.CONNECTION_TYPE}
_HANDLED_OUTPUTS = {HTTP_OUTPUT, wps_bindings.OUTPUT_TYPE}


def unsupported_bindings(spec: FunctionSpec) -> list[str]:
    """Bindings this host cannot provide (their parameters get None / are dropped)."""
    names = [f"{b.name} ({b.type})" for b in spec.inputs if b.type not in _HANDLED_INPUTS]
    names += [f"{b.name} ({b.type})" for b in spec.outputs if b.type not in _HANDLED_OUTPUTS]
    return names


class FunctionHost:
    def __init__(self, specs: list[FunctionSpec]) -> None:
        self.specs = specs
        self.clients = wps_bindings.ServiceClients()

    async def close(self) -> None:
        await self.clients.close()

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
        on_error: Callable[[BaseException], web.Response],
    ) -> web.Response:
        """Invoke `spec`; `respond` turns the trigger's result into the HTTP answer."""
        started = time.perf_counter()
        try:
            values = self._inputs(spec, binding_data)
            values[spec.trigger.name] = trigger_value
            invocation = prepare(spec, values)
            result = await call(invocation)
            http_result: Any = result
            for binding in spec.outputs:
                value = invocation.output(binding.name, result)
                if binding.type == HTTP_OUTPUT:
                    http_result = value
                elif binding.type == wps_bindings.OUTPUT_TYPE:
                    await wps_bindings.send_actions(self.clients, binding, value)
            response = respond(http_result)
        except Exception as exc:
            log.exception("Function '%s' failed", spec.name)
            response = on_error(exc)
            log_invocation(spec.name, False, response.status, started)
            return response
        log_invocation(spec.name, True, response.status, started)
        return response
