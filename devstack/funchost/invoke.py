"""Calling a user function the way the Python worker does, and logging each invocation."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import azure.functions as func

from devstack.funchost.loader import FunctionSpec

log = logging.getLogger("devstack.funchost")
T = TypeVar("T")

# What the current invocation is about (`connect conn=<id>`, `GET /api/negotiate`): every log
# line written during it, the app's own included, starts with it.
invocation_label: contextvars.ContextVar[str] = contextvars.ContextVar("invocation", default="")


class InvocationFilter(logging.Filter):
    """Adds `%(invocation)s` (the label and a space, or nothing) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        label = invocation_label.get()
        record.invocation = f"{label} " if label else ""
        return True


class Out(func.Out[T]):
    """The value of an output binding parameter (`func.Out[...]`)."""

    def __init__(self) -> None:
        self._value: T | None = None

    def set(self, val: T) -> None:
        self._value = val

    def get(self) -> T:
        return self._value  # type: ignore[return-value]


class InvocationContext(func.Context):
    def __init__(self, function_name: str, invocation_id: str) -> None:
        self._function_name = function_name
        self._invocation_id = invocation_id

    @property
    def invocation_id(self) -> str:
        return self._invocation_id

    @property
    def thread_local_storage(self) -> type[threading.local]:
        return threading.local  # nothing is kept per thread here

    @property
    def function_name(self) -> str:
        return self._function_name

    @property
    def function_directory(self) -> str:
        return ""

    @property
    def trace_context(self) -> Any:
        return None

    @property
    def retry_context(self) -> Any:
        return None


@dataclass
class Invocation:
    """One call: the arguments, the output parameters, and what came back."""

    spec: FunctionSpec
    args: dict[str, Any]
    outs: dict[str, Out[Any]] = field(default_factory=dict)
    invocation_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    def output(self, name: str, result: Any) -> Any:
        return result if name == "$return" else self.outs[name].get()


def prepare(spec: FunctionSpec, values: Mapping[str, Any]) -> Invocation:
    """Arguments for every parameter: bound values, `Out` objects, the context, else None."""
    invocation = Invocation(spec=spec, args={})
    outputs = {b.name for b in spec.outputs}
    for param in spec.params:
        if param in values:
            invocation.args[param] = values[param]
        elif param in outputs:
            invocation.outs[param] = invocation.args[param] = Out()
        elif param == "context":
            invocation.args[param] = InvocationContext(spec.name, invocation.invocation_id)
        else:
            invocation.args[param] = None
    return invocation


async def call(invocation: Invocation) -> Any:
    spec = invocation.spec
    if spec.is_async:
        return await spec.func(**invocation.args)
    # The worker runs sync functions on a thread pool so the event loop stays free.
    ctx = contextvars.copy_context()
    bound = functools.partial(ctx.run, spec.func, **invocation.args)
    return await asyncio.get_running_loop().run_in_executor(None, bound)


def log_invocation(name: str, ok: bool, started: float, status: int | str | None = "") -> None:
    """One line per invocation; `status` is the HTTP answer (None: none sent, "": not HTTP)."""
    ms = (time.perf_counter() - started) * 1000
    outcome = "Succeeded" if ok else "Failed"
    detail = "" if status == "" else f", {status}" if status is not None else ", no answer"
    log.info("Executed 'Functions.%s' (%s%s, %.0f ms)", name, outcome, detail, ms)
