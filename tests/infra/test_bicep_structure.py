"""infra/ holds what issue 4 asks for, and the checks notice when any of it goes missing.

The checks (bicep_checks) run on the real files; then each mutation below breaks one thing in
a copy of them, and the checks must report that thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from shared.azure.settings import APP_SETTINGS
from tests.infra.bicep_checks import (
    CHECKS,
    NOT_SET_IN_AZURE,
    PLATFORM_SETTINGS,
    expected_app_settings,
    load_sources,
    problems,
)
from tests.infra.bicep_tree import Infra

SOURCES = load_sources()


@pytest.mark.parametrize("check", CHECKS, ids=lambda check: check.__name__)
def test_real_infra_passes(check: Callable[[Infra], list[str]]) -> None:
    assert check(Infra(SOURCES)) == []


def test_settings_not_set_in_azure_are_settings_the_code_reads() -> None:
    assert set(NOT_SET_IN_AZURE) <= set(APP_SETTINGS)
    assert not set(PLATFORM_SETTINGS) & set(APP_SETTINGS)
    assert expected_app_settings() == {
        "AzureWebJobsStorage__accountName",
        "WebPubSubConnectionString",
        "WebPubSubHub",
        "JWT_SECRET",
        "GUEST_LOGIN",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
    }


@dataclass(frozen=True)
class Mutation:
    file: str
    old: str | re.Pattern[str]  # must occur exactly once
    new: str
    expect: str  # part of the problem the checks must report


def block(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.DOTALL)


SYSTEM_KEY_DEFAULT = "'${replace(newGuid(), '-', '')}${replace(newGuid(), '-', '')}'"
BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
MAIN, STORAGE, PARAMS = "main.bicep", "modules/storage.bicep", "main.bicepparam"

MUTATIONS = {
    # Web PubSub, the hub and its event handler
    "event handler removed": Mutation(
        MAIN, block(r"eventHandlers: \[.*?\n    \]"), "eventHandlers: []", "one event handler"
    ),
    "webhook path misspelled": Mutation(
        MAIN, "/runtime/webhooks/webpubsub?code=", "/runtime/webhook/webpubsub?code=", "urlTemplate"
    ),
    "event handler over http": Mutation(
        MAIN, "urlTemplate: 'https://", "urlTemplate: 'http://", "urlTemplate"
    ),
    "event handler with another key": Mutation(
        MAIN, "?code=${webPubSubExtensionKey}'", "?code=${jwtSecret}'", "code= must be"
    ),
    "event handler with a literal key": Mutation(
        MAIN, "?code=${webPubSubExtensionKey}'", "?code=0123456789abcdef'", "literal credential"
    ),
    "connected event dropped": Mutation(MAIN, "          'connected'\n", "", "systemEvents"),
    "user events narrowed": Mutation(
        MAIN, "userEventPattern: '*'", "userEventPattern: 'message'", "userEventPattern"
    ),
    "hub type misspelled": Mutation(
        MAIN,
        "'Microsoft.SignalRService/webPubSub/hubs@",
        "'Microsoft.SignalRService/webPubSub/hub@",
        "no Microsoft.SignalRService/webPubSub/hubs",
    ),
    "web pubsub type misspelled": Mutation(
        MAIN,
        "webPubSub 'Microsoft.SignalRService/webPubSub@",
        "webPubSub 'Microsoft.SignalRService/webPubSubs@",
        "no Microsoft.SignalRService/webPubSub ",
    ),
    "sku defaults to standard": Mutation(
        MAIN,
        "param webPubSubSku string = 'Free_F1'",
        "param webPubSubSku string = 'Standard_S1'",
        "default to Free_F1",
    ),
    "hub defaults to another name": Mutation(
        MAIN, "param hubName string = 'channels'", "param hubName string = 'chat'", "'channels'"
    ),
    # the webpubsub_extension system key
    "system key name misspelled": Mutation(
        MAIN, "/default/webpubsub_extension'", "/default/webpubsub_extention'", "system key name"
    ),
    "system key property misspelled": Mutation(
        MAIN, "name: 'webpubsub_extension'", "name: 'webpubsub-extension'", "properties.name"
    ),
    "system key type misspelled": Mutation(
        MAIN,
        "'Microsoft.Web/sites/host/systemkeys@",
        "'Microsoft.Web/sites/host/functionkeys@",
        "no Microsoft.Web/sites/host/systemkeys",
    ),
    "system key literal": Mutation(
        MAIN,
        "    value: webPubSubExtensionKey\n",
        "    value: 'abcdef0123456789'\n",
        "properties.value must be a @secure()",
    ),
    "system key literal default": Mutation(
        MAIN, SYSTEM_KEY_DEFAULT, "'abcdef0123456789abcdef0123456789'", "literal default"
    ),
    "system key not secure": Mutation(
        MAIN,
        "@secure()\nparam webPubSubExtensionKey",
        "param webPubSubExtensionKey",
        "webPubSubExtensionKey must be @secure()",
    ),
    # app settings
    "app setting dropped": Mutation(
        MAIN,
        block(r"\{\s*name: 'WebPubSubHub'\s*value: hubName\s*\}"),
        "",
        "WebPubSubHub is not set",
    ),
    "app setting misspelled": Mutation(
        MAIN, "name: 'JWT_SECRET'", "name: 'JWT_SECRETS'", "JWT_SECRET is not set"
    ),
    "unknown app setting": Mutation(
        MAIN,
        "      appSettings: [\n",
        "      appSettings: [\n        {\n          name: 'FUNCTIONS_WORKER_RUNTIME'\n"
        "          value: 'python'\n        }\n",
        "FUNCTIONS_WORKER_RUNTIME must not be set",
    ),
    "storage connection string instead of identity": Mutation(
        MAIN,
        "name: 'AzureWebJobsStorage__accountName'",
        "name: 'AzureWebJobsStorage'",
        "AzureWebJobsStorage must not be set: Azure uses the identity form",
    ),
    "app settings moved to sites/config": Mutation(
        MAIN,
        "output functionAppName",
        "resource extra 'Microsoft.Web/sites/config@2024-04-01' = {\n  parent: functionApp\n"
        "  name: 'appsettings'\n  properties: {}\n}\n\noutput functionAppName",
        "sites/config",
    ),
    "hub setting disagrees with the hub": Mutation(
        MAIN, "value: hubName", "value: 'channels'", "WebPubSubHub must be the same"
    ),
    "guest login always on": Mutation(
        MAIN, "value: allowGuestLogin ? 'true' : 'false'", "value: 'true'", "GUEST_LOGIN must be"
    ),
    "guest login on by default": Mutation(
        MAIN,
        "param allowGuestLogin bool = false",
        "param allowGuestLogin bool = true",
        "allowGuestLogin must be a bool defaulting to false",
    ),
    # secrets
    "literal jwt secret": Mutation(
        MAIN,
        "value: jwtSecret",
        "value: 'a-literal-secret-long-enough-for-the-app-0123'",
        "JWT_SECRET must be a @secure() parameter",
    ),
    "literal web pubsub connection string": Mutation(
        MAIN,
        "value: webPubSub.listKeys().primaryConnectionString",
        "value: 'Endpoint=https://x.webpubsub.azure.com;AccessKey=abc;Version=1.0;'",
        "WebPubSubConnectionString must be",
    ),
    "jwt secret not secure": Mutation(
        MAIN,
        "@secure()\n@minLength(32)\nparam jwtSecret",
        "@minLength(32)\nparam jwtSecret",
        "jwtSecret must be @secure()",
    ),
    "jwt secret with a literal default": Mutation(
        MAIN,
        "param jwtSecret string\n",
        "param jwtSecret string = 'change-me-change-me-0123'\n",
        "jwtSecret must be @secure() with no default",
    ),
    # the Function App on Flex Consumption
    "plan not flex": Mutation(MAIN, "name: 'FC1'", "name: 'Y1'", "plan sku.name"),
    "plan tier": Mutation(MAIN, "tier: 'FlexConsumption'", "tier: 'Dynamic'", "plan sku.tier"),
    "plan on windows": Mutation(MAIN, "reserved: true", "reserved: false", "reserved"),
    "site kind": Mutation(
        MAIN, "kind: 'functionapp,linux'", "kind: 'functionapp'", "Function App kind"
    ),
    "python version": Mutation(MAIN, "version: '3.11'", "version: '3.12'", "runtime.version"),
    "runtime name": Mutation(MAIN, "name: 'python'", "name: 'node'", "runtime.name"),
    "no managed identity": Mutation(
        MAIN, "type: 'SystemAssigned'\n", "type: 'None'\n", "identity.type"
    ),
    "deployment storage with a key": Mutation(
        MAIN,
        "type: 'SystemAssignedIdentity'",
        "type: 'StorageAccountConnectionString'",
        "authentication.type",
    ),
    "max instances dropped": Mutation(
        MAIN, "        maximumInstanceCount: maximumInstanceCount\n", "", "maximumInstanceCount"
    ),
    "https only off": Mutation(MAIN, "httpsOnly: true", "httpsOnly: false", "httpsOnly"),
    # roles
    "blob data owner swapped": Mutation(
        MAIN, BLOB_DATA_OWNER, BLOB_DATA_CONTRIBUTOR, "Storage Blob Data Owner"
    ),
    "table role swapped": Mutation(
        MAIN, TABLE_DATA_CONTRIBUTOR, QUEUE_DATA_CONTRIBUTOR, "Storage Table Data Contributor"
    ),
    "roles granted to someone else": Mutation(
        MAIN,
        "principalId: functionApp.identity.principalId",
        "principalId: deployer().objectId",
        "granted to functionApp.identity.principalId",
    ),
    "role assignment type misspelled": Mutation(
        "modules/storage-roles.bicep",
        "'Microsoft.Authorization/roleAssignments@",
        "'Microsoft.Authorization/roleAssignment@",
        "no Microsoft.Authorization/roleAssignments",
    ),
    # outputs
    "negotiate output renamed": Mutation(
        MAIN, "output negotiateUrl", "output negotiateUri", "output negotiateUrl"
    ),
    "negotiate path misspelled": Mutation(
        MAIN, "/api/negotiate'", "/api/negotiat'", "output negotiateUrl"
    ),
    "app url output dropped": Mutation(MAIN, block(r"output appUrl [^\n]*\n"), "", "output appUrl"),
    "hub output dropped": Mutation(
        MAIN, "output hubName string = hub.name\n", "", "output hubName"
    ),
    "syntax error": Mutation(
        MAIN,
        "resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {",
        "resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {{",
        "main.bicep line",
    ),
    # storage
    "shared key allowed": Mutation(
        STORAGE, "allowSharedKeyAccess: false", "allowSharedKeyAccess: true", "allowSharedKeyAccess"
    ),
    "http allowed": Mutation(
        STORAGE,
        "supportsHttpsTrafficOnly: true",
        "supportsHttpsTrafficOnly: false",
        "supportsHttpsTrafficOnly",
    ),
    "old tls": Mutation(STORAGE, "'TLS1_2'", "'TLS1_0'", "minimumTlsVersion"),
    "public blobs": Mutation(
        STORAGE,
        "allowBlobPublicAccess: false",
        "allowBlobPublicAccess: true",
        "allowBlobPublicAccess",
    ),
    "public blob setting dropped": Mutation(
        STORAGE, "    allowBlobPublicAccess: false\n", "", "allowBlobPublicAccess"
    ),
    "storage type misspelled": Mutation(
        STORAGE,
        "'Microsoft.Storage/storageAccounts@",
        "'Microsoft.Storage/storageAccount@",
        "no Microsoft.Storage/storageAccounts resource",
    ),
    "deployment container type misspelled": Mutation(
        STORAGE,
        "blobServices/containers@",
        "blobServices/container@",
        "no Microsoft.Storage/storageAccounts/blobServices/containers",
    ),
    # monitoring
    "insights without workspace": Mutation(
        "modules/monitoring.bicep",
        "    WorkspaceResourceId: logAnalytics.id\n",
        "",
        "WorkspaceResourceId",
    ),
    "log analytics type misspelled": Mutation(
        "modules/monitoring.bicep",
        "'Microsoft.OperationalInsights/workspaces@",
        "'Microsoft.OperationalInsights/workspace@",
        "no Microsoft.OperationalInsights/workspaces",
    ),
    "insights type misspelled": Mutation(
        "modules/monitoring.bicep",
        "'Microsoft.Insights/components@",
        "'Microsoft.Insights/component@",
        "no Microsoft.Insights/components",
    ),
    # the parameters file
    "bicepparam literal secret": Mutation(
        PARAMS,
        "readEnvironmentVariable('JWT_SECRET', '')",
        "'0123456789abcdef0123456789abcdef'",
        "assigns a literal to @secure() parameter jwtSecret",
    ),
    "bicepparam uses another template": Mutation(
        PARAMS, "using 'main.bicep'", "using 'mian.bicep'", "must use 'main.bicep'"
    ),
    "bicepparam assigns an unknown parameter": Mutation(
        PARAMS,
        "param hubName = 'channels'",
        "param hubname = 'channels'",
        "assigns hubname, which main.bicep does not declare",
    ),
    "bicepparam misses jwt secret": Mutation(
        PARAMS,
        "param jwtSecret = readEnvironmentVariable('JWT_SECRET', '')\n",
        "",
        "must assign jwtSecret",
    ),
    "bicepparam syntax error": Mutation(
        PARAMS, "param hubName = 'channels'", "param hubName = 'channels", "main.bicepparam line"
    ),
}


def mutate(sources: dict[str, str], mutation: Mutation) -> dict[str, str]:
    text = sources[mutation.file]
    if isinstance(mutation.old, str):
        assert text.count(mutation.old) == 1, f"{mutation.old!r} is not once in {mutation.file}"
        mutated = text.replace(mutation.old, mutation.new)
    else:
        mutated, count = mutation.old.subn(mutation.new, text)
        assert count == 1, f"{mutation.old.pattern!r} is not once in {mutation.file}"
    return {**sources, mutation.file: mutated}


@pytest.mark.parametrize("mutation", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_checks_report_the_mutation(mutation: Mutation) -> None:
    found = problems(mutate(SOURCES, mutation))
    assert any(mutation.expect in problem for problem in found), found
