"""The deploy order and the hosting plans, as checks over the Bicep syntax trees.

Microsoft's order for the Web PubSub extension (infra/README.md): provision (main.bicep), publish
the code, then configure the hub's event handler (event-handler.bicep) with the
`webpubsub_extension` system key that the running host created. So phase one creates no system
key and no hub, and nothing in it changes from one deployment to the next; phase three reads
the key with listKeys() on the host. Each hosting plan is checked on what main.bicep deploys
for it (bicep_eval evaluates the template with `hostingPlan` set).
"""

from __future__ import annotations

from collections.abc import Callable

from tree_sitter import Node

from tests.infra.bicep_checks import (
    expected_app_settings,
    is_secret_source,
    one,
    site_of,
)
from tests.infra.bicep_eval import Evaluator, Opaque, Value, at
from tests.infra.bicep_tree import Infra, items, literal, prop, source, string_parts, walk

EVENT_HANDLER_FILE = "event-handler.bicep"
SYSTEM_KEY = "webpubsub_extension"
WEBHOOK_PATH = "/runtime/webhooks/webpubsub?code="
PLANS = ("FlexConsumption", "ElasticPremium")
# Settings a plan needs beyond the app's own (expected_app_settings), with their values when fixed.
PLAN_SETTINGS: dict[str, dict[str, str | None]] = {
    "FlexConsumption": {},  # runtime and version come from functionAppConfig
    "ElasticPremium": {
        "FUNCTIONS_EXTENSION_VERSION": "~4",
        "FUNCTIONS_WORKER_RUNTIME": "python",
        "SCM_DO_BUILD_DURING_DEPLOYMENT": "true",  # remote build of requirements.txt
        "ENABLE_ORYX_BUILD": "true",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING": None,  # a secret: checked apart
        "WEBSITE_CONTENTSHARE": None,
    },
}
# Resource types that call into the running Functions host: phase one must not declare them.
HOST_TYPES = ("Microsoft.Web/sites/host", "Microsoft.Web/sites/functions")


def check_phase_one(infra: Infra) -> list[str]:
    """Provisioning calls nothing in the host and is the same on every run."""
    problems: list[str] = []
    for file in infra.files.values():
        if file.path == EVENT_HANDLER_FILE:
            continue
        for resource in file.resources:
            if resource.type.lower().startswith(tuple(t.lower() for t in HOST_TYPES)):
                problems.append(
                    f"{file.path} declares {resource.type} ({resource.symbol}): the host creates"
                    " its keys when the code runs; phase one must not call into it"
                )
        for node in walk(file.root):
            if node.type == "call_expression" and source(node).startswith("newGuid("):
                problems.append(
                    f"{file.path} line {node.start_point.row + 1}: newGuid() changes on every"
                    " deployment (a key that rotates on each redeploy drops every client)"
                )
            if node.type == "string" and "Microsoft.Web/sites/host" in source(node):
                problems.append(
                    f"{file.path} line {node.start_point.row + 1}: phase one reads the host"
                    " (its keys exist only after the code is published)"
                )
    for hub in infra.resources("Microsoft.SignalRService/webPubSub/hubs"):
        if hub.file != EVENT_HANDLER_FILE:
            problems.append(
                f"{hub.file} declares the hub: only {EVENT_HANDLER_FILE} may, or a redeploy of"
                " phase one would reset its event handler"
            )
    return problems


def check_web_pubsub_service(infra: Infra) -> list[str]:
    service = one(infra, "Microsoft.SignalRService/webPubSub")
    if service is None or service.file != "main.bicep":
        return ["main.bicep must declare one Web PubSub service"]
    sku = prop(service.body, "sku", "name")
    sku_param = infra.main.params.get(source(sku)) if sku is not None else None
    if sku_param is None or set(sku_param.allowed) != {"Free_F1", "Standard_S1"}:
        return ["Web PubSub sku.name must be a parameter allowing Free_F1 and Standard_S1"]
    if literal(sku_param.default) != "Free_F1":
        return ["the Web PubSub SKU parameter must default to Free_F1"]
    return []


def check_event_handler(infra: Infra) -> list[str]:
    """Phase three: the hub, its one event handler, and the key read from the running host."""
    file = infra.files.get(EVENT_HANDLER_FILE)
    if file is None:
        return [f"infra/{EVENT_HANDLER_FILE} is missing (phase three: the event handler)"]
    hubs = [r for r in file.resources if r.type == "Microsoft.SignalRService/webPubSub/hubs"]
    if len(hubs) != 1:
        return [f"{EVENT_HANDLER_FILE} must declare exactly one hub"]
    hub, problems = hubs[0], list[str]()
    existing = {r.symbol: r for r in file.resources if r.existing}
    parent = prop(hub.body, "parent")
    service = existing.get(source(parent)) if parent is not None else None
    if service is None or service.type != "Microsoft.SignalRService/webPubSub":
        problems.append("the hub's parent must be the existing Web PubSub service")
    name = prop(hub.body, "name")
    if name is None or source(name) not in file.params:
        problems.append(f"the hub's name must be a parameter of {EVENT_HANDLER_FILE}")
    handlers = items(prop(hub.body, "properties", "eventHandlers"))
    if len(handlers) != 1:
        return [*problems, f"the hub must have exactly one event handler, found {len(handlers)}"]
    handler = handlers[0]
    events = [literal(e) for e in items(prop(handler, "systemEvents"))]
    if sorted(map(str, events)) != ["connect", "connected", "disconnected"]:
        problems.append(
            f"event handler systemEvents must be connect, connected, disconnected: {events}"
        )
    if literal(prop(handler, "userEventPattern")) != "*":
        problems.append("event handler userEventPattern must be '*'")
    return problems + _check_url_template(infra, prop(handler, "urlTemplate"))


def _check_url_template(infra: Infra, url: Node | None) -> list[str]:
    file = infra.files[EVENT_HANDLER_FILE]
    sites = [r for r in file.resources if r.existing and r.type == "Microsoft.Web/sites"]
    parts = string_parts(url) if url is not None else None
    host = f"{sites[0].symbol}.properties.defaultHostName" if len(sites) == 1 else "?"
    if (
        parts is None
        or len(parts) != 4
        or parts[0] != "https://"
        or isinstance(parts[1], str)
        or source(parts[1]) != host
        or parts[2] != WEBHOOK_PATH
        or isinstance(parts[3], str)
    ):
        return [
            f"event handler urlTemplate must be 'https://${{{host}}}{WEBHOOK_PATH}${{key}}',"
            " on the existing Function App"
        ]
    site_name = prop(sites[0].body, "name")
    problem = _key_read_problem(infra, parts[3], source(site_name) if site_name else "")
    return [f"event handler code= must be {problem}"] if problem else []


def _key_read_problem(infra: Infra, key: Node, site_name: str) -> str | None:
    """None when `key` is listKeys(resourceId('Microsoft.Web/sites/host', <the site>,
    'default'), <the API version main.bicep uses for sites>).systemKeys.webpubsub_extension."""
    api = site_api_version(infra)
    wanted = (
        f"listKeys(resourceId('Microsoft.Web/sites/host', {site_name}, 'default'), '{api}')"
        f".systemKeys.{SYSTEM_KEY}"
    )
    if source(key) != wanted:
        return f"the running host's key: {wanted}"
    return None


def site_api_version(infra: Infra) -> str:
    """The API version main.bicep declares the Function App with."""
    for node in walk(infra.main.root):
        if node.type == "resource_declaration":
            type_text = literal(node.named_children[1])
            if isinstance(type_text, str) and type_text.startswith("Microsoft.Web/sites@"):
                return type_text.split("@", 1)[1]
    return "?"


def check_hosting_plans(infra: Infra) -> list[str]:
    param = infra.main.params.get("hostingPlan")
    if param is None or set(param.allowed) != set(PLANS):
        return ["parameter hostingPlan must allow exactly FlexConsumption and ElasticPremium"]
    if literal(param.default) != "FlexConsumption":
        return ["parameter hostingPlan must default to FlexConsumption"]
    return [f"{plan}: {problem}" for plan in PLANS for problem in _plan_problems(infra, plan)]


def _shown(value: Value) -> str:
    return value.source if isinstance(value, Opaque) else repr(value)


def _plan_problems(infra: Infra, plan_name: str) -> list[str]:
    """What main.bicep deploys with hostingPlan=<plan_name>, against what that plan needs."""
    plans = infra.resources("Microsoft.Web/serverfarms")
    site = site_of(infra)
    if len(plans) != 1 or site is None:
        return ["main.bicep must declare exactly one plan and one Function App"]
    evaluate = Evaluator(infra.main, {"hostingPlan": plan_name}).eval
    plan, app = evaluate(plans[0].body), evaluate(site.body)
    flex = plan_name == "FlexConsumption"
    wanted: dict[tuple[str, str], Value] = {
        ("plan", "sku.name"): "FC1" if flex else "EP1",
        ("plan", "sku.tier"): plan_name,
        ("plan", "kind"): "functionapp" if flex else "elastic",
        ("plan", "properties.reserved"): True,
        ("app", "kind"): "functionapp,linux",
        ("app", "identity.type"): "SystemAssigned",
        ("app", "properties.httpsOnly"): True,
        ("app", "tags.azd-service-name"): "api",
    }
    config = "properties.functionAppConfig"
    if flex:
        wanted |= {
            ("app", f"{config}.runtime.name"): "python",
            ("app", f"{config}.runtime.version"): "3.11",
            ("app", f"{config}.deployment.storage.type"): "blobContainer",
            ("app", f"{config}.deployment.storage.authentication.type"): "SystemAssignedIdentity",
        }
    else:
        wanted[("app", "properties.siteConfig.linuxFxVersion")] = "Python|3.11"
    deployed = {"plan": plan, "app": app}
    problems = []
    for (what, path), want in wanted.items():
        found = at(deployed[what], path)
        if found != want:
            problems.append(f"{what} {path} must be {want!r}, found {_shown(found)}")
    farm = at(app, "properties.serverFarmId")
    if not isinstance(farm, Opaque) or farm.source != f"{plans[0].symbol}.id":
        problems.append(f"Function App serverFarmId must be {plans[0].symbol}.id")
    scale = at(app, f"{config}.scaleAndConcurrency")
    if flex:
        for key in ("maximumInstanceCount", "instanceMemoryMB"):
            if at(scale, key) is None:
                problems.append(f"functionAppConfig scaleAndConcurrency.{key} is not set")
    else:
        if at(app, config) is not None:
            problems.append("functionAppConfig is for Flex Consumption only")
        if at(plan, "properties.maximumElasticWorkerCount") is None:
            problems.append("plan properties.maximumElasticWorkerCount (burst) is not set")
    return problems + _settings_problems(infra, plan_name, at(app, "properties.siteConfig"))


def _settings_problems(infra: Infra, plan_name: str, site_config: Value) -> list[str]:
    settings = at(site_config, "appSettings")
    if not isinstance(settings, list):
        return [f"siteConfig.appSettings must be a list, found {_shown(settings)}"]
    values = {
        str(at(entry, "name")): at(entry, "value")
        for entry in settings
        if isinstance(at(entry, "name"), str)
    }
    extra = PLAN_SETTINGS[plan_name]
    wanted = expected_app_settings() | set(extra)
    problems = [f"app setting {name} is not set" for name in sorted(wanted - set(values))]
    problems += [f"app setting {name} must not be set" for name in sorted(set(values) - wanted)]
    for name, want in extra.items():
        if want is not None and name in values and values[name] != want:
            problems.append(f"app setting {name} must be {want!r}")
    share = values.get("WEBSITE_CONTENTAZUREFILECONNECTIONSTRING")
    if isinstance(share, Opaque) and not is_secret_source(infra.main, share.node):
        problems.append("WEBSITE_CONTENTAZUREFILECONNECTIONSTRING must come from listKeys()")
    return problems + _shared_key_problems(infra, plan_name)


def _shared_key_problems(infra: Infra, plan_name: str) -> list[str]:
    """Shared-key access stays off on Flex Consumption (identity only)."""
    modules = [n for n in walk(infra.main.root) if n.type == "module_declaration"]
    for module in modules:
        if literal(module.named_children[1]) == "modules/storage.bicep":
            body = module.named_children[-1]
            value = Evaluator(infra.main, {"hostingPlan": plan_name}).eval(
                prop(body, "params", "allowSharedKeyAccess")
            )
            if plan_name == "FlexConsumption" and value not in (None, False):
                return [f"storage allowSharedKeyAccess must be off, found {_shown(value)}"]
            return []
    return ["main.bicep must use modules/storage.bicep"]


CHECKS: tuple[Callable[[Infra], list[str]], ...] = (
    check_phase_one,
    check_web_pubsub_service,
    check_event_handler,
    check_hosting_plans,
)
