"""What infra/ must hold, as checks over the Bicep syntax trees: resources, storage, app
settings, secrets, roles, monitoring, outputs and the parameters file.

Each check takes the parsed infra (bicep_tree.Infra) and returns a list of problems, empty when
all is well. The deploy order and the hosting plans are checked in deploy_checks.py;
infra_checks.problems(sources) runs every check on source text (path relative to infra/ ->
text), so the tests run the same checks on the real files and on mutated copies of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from tree_sitter import Node

from shared.azure.settings import APP_SETTINGS
from tests.infra.bicep_tree import (
    BicepFile,
    Infra,
    Resource,
    calls,
    has_literal_text,
    items,
    literal,
    prop,
    source,
    string_parts,
    syntax_errors,
    walk,
)

INFRA_DIR = Path(__file__).resolve().parents[2] / "infra"

# Settings the code reads but that Azure does not get, each with the reason.
NOT_SET_IN_AZURE = {
    "AzureWebJobsStorage": "Azure uses the identity form AzureWebJobsStorage__accountName; "
    "a connection string would need the shared key, which is disabled",
}
# Settings read by the platform, not by our code.
PLATFORM_SETTINGS = {
    "APPLICATIONINSIGHTS_CONNECTION_STRING": "the Functions host sends telemetry with it",
}
SECRET_SETTINGS = frozenset(
    {
        "AzureWebJobsStorage",
        "WebPubSubConnectionString",
        "JWT_SECRET",
        "JWT_SECRET_PREVIOUS",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING",
    }
)
STORAGE_BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
STORAGE_TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
# Parameter names that say the value is a secret (jwtSecret, jwtSecretPrevious).
SECRET_NAME = re.compile(r"(secret|password|key)(previous)?$", re.IGNORECASE)
# A credential written out in a literal: one of these followed by literal text (followed by an
# interpolation instead, the string content ends right after the `=`).
LITERAL_CREDENTIAL = re.compile(r"(AccountKey|AccessKey|SharedAccessSignature|[?&]code)=.")

REQUIRED_TYPES = {
    "Microsoft.Storage/storageAccounts": "host storage and the app's tables",
    "Microsoft.Storage/storageAccounts/blobServices/containers": "the deployment container",
    "Microsoft.SignalRService/webPubSub": "the Web PubSub service",
    "Microsoft.SignalRService/webPubSub/hubs": "the hub and its event handler",
    "Microsoft.Web/serverfarms": "the hosting plan",
    "Microsoft.Web/sites": "the Function App",
    "Microsoft.OperationalInsights/workspaces": "the Log Analytics workspace",
    "Microsoft.Insights/components": "Application Insights",
    "Microsoft.Authorization/roleAssignments": "the Function App identity's storage roles",
}

Sources = Mapping[str, str]


def load_sources(infra_dir: Path = INFRA_DIR) -> dict[str, str]:
    return {
        path.relative_to(infra_dir).as_posix(): path.read_text()
        for path in sorted(infra_dir.rglob("*"))
        if path.suffix in (".bicep", ".bicepparam")
    }


def expected_app_settings() -> set[str]:
    return (set(APP_SETTINGS) - set(NOT_SET_IN_AZURE)) | set(PLATFORM_SETTINGS)


# --- helpers ------------------------------------------------------------------------------------


def one(infra: Infra, type_name: str) -> Resource | None:
    found = infra.resources(type_name)
    return found[0] if len(found) == 1 else None


def shape(node: Node | None) -> list[str]:
    """A string as its literal pieces and the source of its interpolations; [] if not a string."""
    parts = string_parts(node) if node is not None else None
    return [p if isinstance(p, str) else source(p) for p in parts or []]


def expect(what: str, body: Node | None, wanted: Mapping[str, str | bool]) -> list[str]:
    """Literal values at dotted paths of a resource body."""
    problems = []
    for path, want in wanted.items():
        node = prop(body, *path.split("."))
        if literal(node) != want:
            found = source(node) if node is not None else "nothing"
            shown = ("true" if want else "false") if isinstance(want, bool) else f"'{want}'"
            problems.append(f"{what} {path} must be {shown}, found {found}")
    return problems


def site_of(infra: Infra) -> Resource | None:
    site = one(infra, "Microsoft.Web/sites")
    return site if site is not None and site.file == "main.bicep" else None


def settings_of(array: Node | None) -> dict[str, Node]:
    """`[{name: 'X', value: ...}, ...]` -> {X: value node}."""
    settings: dict[str, Node] = {}
    for entry in items(array):
        name, value = literal(prop(entry, "name")), prop(entry, "value")
        if isinstance(name, str) and value is not None:
            settings[name] = value
    return settings


def _app_settings(infra: Infra) -> dict[str, Node] | None:
    array = infra.main.variables.get("appSettings")
    return settings_of(array) if array is not None and array.type == "array" else None


def _is_secure_param(file: BicepFile, node: Node | None) -> bool:
    return (
        node is not None
        and node.type == "identifier"
        and source(node) in file.params
        and file.params[source(node)].secure
    )


def is_secret_source(file: BicepFile, node: Node, seen: frozenset[str] = frozenset()) -> bool:
    """A @secure() parameter, a list*() call on a resource, a Key Vault reference, or a
    variable holding one of those."""
    if _is_secure_param(file, node):
        return True
    if any(name.lower().startswith("list") for name in calls(node)):
        return True
    value = literal(node)
    if isinstance(value, str) and value.startswith("@Microsoft.KeyVault("):
        return True
    name = source(node)
    if node.type == "identifier" and name in file.variables and name not in seen:
        return is_secret_source(file, file.variables[name], seen | {name})
    return False


# --- checks -------------------------------------------------------------------------------------


def check_syntax(infra: Infra) -> list[str]:
    return [f"{f.path} {error}" for f in infra.files.values() for error in syntax_errors(f.root)]


def check_resources(infra: Infra) -> list[str]:
    return [
        f"no {type_name} resource ({why})"
        for type_name, why in REQUIRED_TYPES.items()
        if not infra.resources(type_name)
    ]


def check_storage(infra: Infra) -> list[str]:
    problems: list[str] = []
    for account in infra.resources("Microsoft.Storage/storageAccounts"):
        problems += expect(
            f"storage account ({account.file})",
            account.body,
            {
                "properties.supportsHttpsTrafficOnly": True,
                "properties.minimumTlsVersion": "TLS1_2",
                "properties.allowBlobPublicAccess": False,
            },
        )
        # Shared-key access: off unless the module's caller asks (deploy_checks says which
        # plan may), and off by default.
        shared_key = prop(account.body, "properties", "allowSharedKeyAccess")
        param = infra.files[account.file].params.get(source(shared_key)) if shared_key else None
        if literal(shared_key) is not False and (
            param is None or literal(param.default) is not False
        ):
            problems.append(
                f"storage account ({account.file}) properties.allowSharedKeyAccess must be"
                " false, or a parameter defaulting to false"
            )
    return problems


def check_app_settings(infra: Infra) -> list[str]:
    """The settings the code reads, in `var appSettings` (deploy_checks: both plans use it)."""
    settings = _app_settings(infra)
    if settings is None:
        return ["main.bicep must list the app's settings in var appSettings"]
    problems = [
        f"app setting {name} is not set (the code reads it)"
        for name in sorted(expected_app_settings() - set(settings))
    ]
    for name in sorted(set(settings) - expected_app_settings()):
        why = NOT_SET_IN_AZURE.get(
            name, "nothing reads it; add it to shared/azure/settings.py or here"
        )
        problems.append(f"app setting {name} must not be set: {why}")
    if infra.resources("Microsoft.Web/sites/config"):
        problems.append("app settings belong in siteConfig.appSettings, not sites/config")
    main = infra.main
    hub = settings.get("WebPubSubHub")
    hub_output = main.outputs.get("hubName")
    if hub is not None and (hub_output is None or source(hub) != source(hub_output)):
        problems.append("app setting WebPubSubHub must be the same expression as output hubName")
    guest = settings.get("GUEST_LOGIN")
    flag = main.params.get("allowGuestLogin")
    if flag is None or flag.type != "bool" or literal(flag.default) is not False:
        problems.append("parameter allowGuestLogin must be a bool defaulting to false")
    if guest is not None and source(guest) != "allowGuestLogin ? 'true' : 'false'":
        problems.append("app setting GUEST_LOGIN must be allowGuestLogin ? 'true' : 'false'")
    account = settings.get("AzureWebJobsStorage__accountName")
    if account is not None and literal(account) is not None:
        problems.append("AzureWebJobsStorage__accountName must come from the storage account")
    return problems


def check_secrets(infra: Infra) -> list[str]:
    main, problems = infra.main, list[str]()
    every = {**(_app_settings(infra) or {}), **settings_of(main.variables.get("premiumSettings"))}
    for name, value in sorted(every.items()):
        if name in SECRET_SETTINGS and not is_secret_source(main, value):
            problems.append(
                f"app setting {name} must be a @secure() parameter, listKeys() or a Key Vault"
                f" reference, not {source(value)}"
            )
    jwt = main.params.get("jwtSecret")
    if jwt is None or not jwt.secure or jwt.default is not None:
        problems.append("parameter jwtSecret must be @secure() with no default")
    for file in infra.files.values():
        for param in file.params.values():
            if SECRET_NAME.search(param.name) and not param.secure:
                problems.append(f"{file.path} parameter {param.name} must be @secure()")
            if param.secure and param.default is not None and has_literal_text(param.default):
                problems.append(f"{file.path} @secure() {param.name} has a literal default")
        for node in walk(file.root):
            text = source(node) if node.type == "string_content" else ""
            if LITERAL_CREDENTIAL.search(text):
                problems.append(f"{file.path} line {node.start_point.row + 1}: literal credential")
    params_file = infra.params_file
    for name, value in (params_file.variables if params_file else {}).items():
        assigned = main.params.get(name)
        if assigned is not None and assigned.secure and has_literal_text(value):
            problems.append(f"main.bicepparam assigns a literal to @secure() parameter {name}")
    return problems


def check_roles(infra: Infra) -> list[str]:
    strings = {literal(n) for f in infra.files.values() for n in walk(f.root) if n.type == "string"}
    problems = [
        f"no role assignment for {role}"
        for role, role_id in (
            ("Storage Blob Data Owner", STORAGE_BLOB_DATA_OWNER),
            ("Storage Table Data Contributor", STORAGE_TABLE_DATA_CONTRIBUTOR),
        )
        if role_id not in strings
    ]
    site = site_of(infra)
    principal = f"{site.symbol if site else 'functionApp'}.identity.principalId"
    if not any(source(n) == principal for n in walk(infra.main.root)):
        problems.append(f"the storage roles must be granted to {principal}")
    return problems


def check_monitoring(infra: Infra) -> list[str]:
    insights = one(infra, "Microsoft.Insights/components")
    workspace = one(infra, "Microsoft.OperationalInsights/workspaces")
    if insights is None or workspace is None:
        return ["one Application Insights component and one Log Analytics workspace are needed"]
    linked = prop(insights.body, "properties", "WorkspaceResourceId")
    if linked is None or source(linked) != f"{workspace.symbol}.id":
        return [f"Application Insights WorkspaceResourceId must be {workspace.symbol}.id"]
    return []


def check_outputs(infra: Infra) -> list[str]:
    """What phase three and the verifier read (infra/README.md, azure.yaml's hook)."""
    outputs, site, problems = infra.main.outputs, site_of(infra), list[str]()
    host = f"{site.symbol if site else 'functionApp'}.properties.defaultHostName"
    for name, path in (("appUrl", []), ("negotiateUrl", ["/api/negotiate"])):
        if shape(outputs.get(name)) != ["https://", host, *path]:
            problems.append(f"output {name} must be 'https://${{{host}}}{''.join(path)}'")
    service = one(infra, "Microsoft.SignalRService/webPubSub")
    for name, want in (
        ("functionAppName", f"{site.symbol if site else 'functionApp'}.name"),
        ("webPubSubName", f"{service.symbol if service else 'webPubSub'}.name"),
        ("hubName", "hubName"),
    ):
        if name not in outputs or source(outputs[name]) != want:
            problems.append(f"output {name} must be {want}")
    hub_param = infra.main.params.get("hubName")
    if hub_param is None or literal(hub_param.default) != "channels":
        problems.append("parameter hubName must default to 'channels'")
    return problems


def check_params_file(infra: Infra) -> list[str]:
    params_file, main = infra.params_file, infra.main
    if params_file is None:
        return ["infra/main.bicepparam is missing"]
    problems = (
        [] if params_file.using == "main.bicep" else ["main.bicepparam must use 'main.bicep'"]
    )
    problems += [
        f"main.bicepparam assigns {name}, which main.bicep does not declare"
        for name in params_file.variables
        if name not in main.params
    ]
    # A .bicepparam file must assign every parameter without a default, and only parameters
    # it assigns can be overridden on the command line.
    problems += [
        f"main.bicepparam must assign {name} (it has no default)"
        for name, param in main.params.items()
        if param.default is None and name not in params_file.variables
    ]
    return problems


CHECKS: tuple[Callable[[Infra], list[str]], ...] = (
    check_syntax,
    check_resources,
    check_storage,
    check_app_settings,
    check_secrets,
    check_roles,
    check_monitoring,
    check_outputs,
    check_params_file,
)
