"""HTTP triggers: route templates, aiohttp request -> `func.HttpRequest`, response back."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import azure.functions as func
from aiohttp import web

from devstack.funchost.loader import FunctionSpec

HTTP_TRIGGER = "httpTrigger"
_PARAM = re.compile(r"^\{(\*?)([A-Za-z_][\w]*)(?::([^}?=]+))?(\?)?(?:=[^}]*)?\}$")
_CONSTRAINTS = {
    "int": r"-?\d+",
    "long": r"-?\d+",
    "alpha": r"[A-Za-z]+",
    "bool": r"(?i:true|false)",
}


@dataclass(frozen=True)
class HttpRoute:
    spec: FunctionSpec
    template: str
    pattern: re.Pattern[str]
    methods: frozenset[str] | None  # None: every method
    auth_level: str
    literal_segments: int

    def match(self, path: str) -> dict[str, str] | None:
        m = self.pattern.fullmatch(path)
        if m is None:
            return None
        return {k: v for k, v in m.groupdict().items() if v is not None}


def compile_template(template: str) -> tuple[re.Pattern[str], int]:
    """An ASP.NET-style route template (`users/{id:int}/{name?}`, `{*rest}`) -> regex."""
    parts: list[str] = []
    literals = 0
    for segment in template.strip("/").split("/"):
        if not segment:
            continue
        m = _PARAM.match(segment)
        if m is None:
            parts.append("/" + re.escape(segment))
            literals += 1
            continue
        catch_all, name, constraint, optional = m.groups()
        body = ".*" if catch_all else _CONSTRAINTS.get((constraint or "").lower(), "[^/]+")
        group = f"/(?P<{name}>{body})"
        parts.append(f"(?:{group})?" if optional or catch_all else group)
    return re.compile("".join(parts) or "/?", re.IGNORECASE), literals


def routes(specs: Iterable[FunctionSpec]) -> list[HttpRoute]:
    table = []
    for spec in specs:
        if spec.trigger.type != HTTP_TRIGGER:
            continue
        template = str(spec.trigger.get("route") or spec.name)
        methods = spec.trigger.get("methods")
        pattern, literals = compile_template(template)
        table.append(
            HttpRoute(
                spec=spec,
                template=template,
                pattern=pattern,
                methods=frozenset(str(m).upper() for m in methods) if methods else None,
                auth_level=str(spec.trigger.get("authLevel") or "function").lower(),
                literal_segments=literals,
            )
        )
    # Like ASP.NET routing: more literal segments first, catch-alls last.
    table.sort(key=lambda r: ("{*" in r.template, -r.literal_segments))
    return table


async def to_function_request(
    request: web.Request, route_params: dict[str, str]
) -> func.HttpRequest:
    body = await request.read()
    # The host hands the worker one string per header and per query key.
    headers = {k: ",".join(request.headers.getall(k)) for k in request.headers}
    params = {k: ",".join(request.query.getall(k)) for k in request.query}
    return func.HttpRequest(
        method=request.method,
        url=str(request.url),
        headers=headers,
        params=params,
        route_params=route_params,
        body=body,
    )


def to_web_response(result: Any) -> web.Response:
    if result is None:
        return web.Response(status=204)
    if isinstance(result, str):
        return web.Response(text=result, content_type="text/plain", charset="utf-8")
    if isinstance(result, bytes):
        return web.Response(body=result, content_type="application/octet-stream")
    if isinstance(result, func.HttpResponse):
        response = web.Response(status=int(result.status_code), body=result.get_body())
        for name, value in result.headers.items():
            response.headers.add(name, value)
        if "Content-Type" not in response.headers:
            mimetype, charset = result.mimetype, result.charset
            response.headers["Content-Type"] = (
                f"{mimetype}; charset={charset}" if mimetype.startswith("text/") else mimetype
            )
        return response
    raise TypeError(
        f"an HTTP function must return func.HttpResponse or str, not {type(result).__name__}"
    )
