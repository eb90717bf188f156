"""Message events through function_app.py's trigger function, in process.

Prints events/s on the hot path (connection states carry the record, so nothing is read)
against a floor measured in the same run: parse the trigger payload and the frame, validate
the input model, call a no-op handler, serialize the reply. Then the Table Storage and REST
calls each event kind costs (Azurite behind a counting proxy; REST calls recorded).

    python -m bench.triggers [--events N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from bench.counting_proxy import CountingProxy
from channels.models import ChatMessage, Echo
from devstack.azurite import Azurite, connection_string, free_port
from devstack.rest_recorder import RestRecorder
from tests.support import payloads

JWT_SECRET = "bench-secret-" + "0123456789abcdef" * 4


@dataclass
class Figures:
    events: int
    events_per_s: float
    floor_per_s: float
    calls: dict[str, tuple[int, int]]  # event kind -> (table calls, REST calls)
    traced_per_s: float = 0.0  # the runtime with telemetry on (spans, metrics recorded)

    @property
    def ratio(self) -> float:
        return self.floor_per_s / self.events_per_s

    @property
    def traced_ratio(self) -> float:
        return self.floor_per_s / self.traced_per_s


def _floor(request: str) -> str:
    outer = json.loads(request)
    data = ChatMessage.model_validate(json.loads(outer["data"]))
    reply = Echo(message=f"Echo: {data.message}")  # the no-op handler
    return json.dumps({"data": reply.model_dump_json(), "dataType": "json"})


async def run(events: int = 20_000) -> Figures:
    logging.getLogger("channels").setLevel(logging.WARNING)
    with Azurite(port=free_port()) as azurite:
        proxy = CountingProxy(f"http://127.0.0.1:{azurite.port}")
        recorder = RestRecorder()
        await proxy.start()
        await recorder.start()
        try:
            os.environ.update(
                {
                    "AzureWebJobsStorage": connection_string(port=proxy.port),
                    "WebPubSubConnectionString": recorder.connection_string,
                    "WebPubSubHub": "channels",
                    "JWT_SECRET": JWT_SECRET,
                }
            )
            import function_app

            await function_app.runtime.reconfigure()
            fns: dict[str, Any] = {
                str(f.get_function_name()): f.get_user_function()
                for f in function_app.app.get_functions()
            }
            calls = await _calls_per_event(fns, proxy, recorder)
            rate, floor, traced = await _throughput(fns, events)
            await function_app.runtime.aclose()
        finally:
            await recorder.stop()
            await proxy.stop()
    return Figures(events, rate, floor, calls, traced)


async def _calls_per_event(
    fns: dict[str, Any], proxy: CountingProxy, recorder: RestRecorder
) -> dict[str, tuple[int, int]]:
    from shared.core.jwt_service import JwtService

    out: dict[str, tuple[int, int]] = {}
    # warm up: the first use of a table creates it once per process
    warm = await fns["webpubsub_connect"](
        request=payloads.connect("warm", {"channel": "chat", "room": "r"}, user_id="w")
    )
    reply = await fns["webpubsub_message"](
        request=payloads.message("warm", {"action": "sendMessage", "message": "x"}, warm["states"])
    )
    assert "error" not in json.loads(reply["data"]), reply

    async def measure(kind: str, fn: str, payload: str) -> Any:
        proxy.counts.clear()
        recorder.calls.clear()
        result = await fns[fn](request=payload)
        out[kind] = (proxy.total, len(recorder.calls))
        return result

    cid = "bench-conn"
    accepted = await measure(
        "connect", "webpubsub_connect", payloads.connect(cid, {"channel": "chat", "room": "r"})
    )
    states = dict(accepted["states"])
    await measure("connected", "webpubsub_connected", payloads.connected(cid, states))
    token = JwtService(JWT_SECRET).sign({"userId": "bench"})
    auth = await measure(
        "message: authenticate (sets the session)",
        "webpubsub_message",
        payloads.message(cid, {"action": "authenticate", "token": token}, states),
    )
    states.update(auth["states"])
    await measure(
        "message: history (states carry the record)",
        "webpubsub_message",
        payloads.message(cid, {"action": "history", "limit": 1}, states),
    )
    await measure(
        "message: history (no states: reads the table)",
        "webpubsub_message",
        payloads.message(cid, {"action": "history", "limit": 1}),
    )
    await measure(
        "message: sendMessage (store + publish)",
        "webpubsub_message",
        payloads.message(cid, {"action": "sendMessage", "message": "hi"}, states),
    )
    await measure("disconnected", "webpubsub_disconnected", payloads.disconnected(cid, states))
    return out


async def _throughput(fns: dict[str, Any], events: int) -> tuple[float, float, float]:
    """Events/s of the runtime with telemetry off, of the floor, and with telemetry on."""
    accepted = await fns["webpubsub_connect"](
        request=payloads.connect("echo-conn", {"channel": "echo", "room": "r"})
    )
    states = accepted["states"]
    request = payloads.message("echo-conn", {"message": "hello"}, states)
    handler = fns["webpubsub_message"]
    reply = await handler(request=request)
    assert json.loads(reply["data"]) == {"message": "Echo: hello"}, reply

    async def runtime() -> None:
        for _ in range(events):
            await handler(request=request)

    async def floor() -> None:
        for _ in range(events):
            _floor(request)

    best = {"off": 0.0, "floor": 0.0, "on": 0.0}
    for _ in range(3):  # best of three, interleaved: the machine is shared
        for name, run in (("off", runtime), ("floor", floor), ("on", runtime)):
            with _telemetry(on=name == "on"):
                start = time.perf_counter()
                await run()
                best[name] = max(best[name], events / (time.perf_counter() - start))
    return best["off"], best["floor"], best["on"]


@contextmanager
def _telemetry(*, on: bool) -> Iterator[None]:
    """Telemetry as production runs it: spans batched to an exporter, metrics aggregated."""
    if not on:
        yield
        return
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

    from shared.core import telemetry

    class Dropped(SpanExporter):  # export costs the network, not the event: not measured
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(BatchSpanProcessor(Dropped()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    telemetry.switch_on(tracer_provider, meter_provider)
    try:
        yield
    finally:
        telemetry.switch_off()
        tracer_provider.shutdown()
        meter_provider.shutdown()


def report(f: Figures) -> None:
    print(f"message events through the trigger function (hot path, {f.events} events, best of 3)")
    print(f"  runtime : {f.events_per_s:>10,.0f} events/s")
    print(
        f"  floor   : {f.floor_per_s:>10,.0f} events/s"
        "  (parse payload + frame, validate, no-op, serialize)"
    )
    print(f"  ratio   : {f.ratio:>10.2f} x the floor's cost (telemetry off)")
    print(f"  traced  : {f.traced_per_s:>10,.0f} events/s  (telemetry on: a span and metrics each)")
    print(f"  ratio on: {f.traced_ratio:>10.2f} x the floor's cost (telemetry on)")
    print("calls per event (Table Storage, Web PubSub REST)")
    for kind, (table, rest) in f.calls.items():
        print(f"  {kind:<48} table={table}  rest={rest}")


def main(argv: list[str] | None = None) -> Figures:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=20_000)
    args = parser.parse_args(argv)
    figures = asyncio.run(run(args.events))
    report(figures)
    return figures


if __name__ == "__main__":
    main()
