"""infra/ holds what issues 4 and 8 ask for, and the checks notice when any of it goes missing.

The checks (bicep_checks, deploy_checks) run on the real files; then each mutation below breaks
one thing in a copy of them, and the checks must report that thing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from shared.azure.settings import APP_SETTINGS
from tests.infra.bicep_checks import (
    NOT_SET_IN_AZURE,
    PLATFORM_SETTINGS,
    expected_app_settings,
    load_sources,
)
from tests.infra.bicep_tree import Infra
from tests.infra.infra_checks import CHECKS, problems

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
        "JWT_SECRET_PREVIOUS",
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


BLOB_DATA_OWNER = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b"
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
TABLE_DATA_CONTRIBUTOR = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3"
QUEUE_DATA_CONTRIBUTOR = "974c5e8b-45b9-4653-ba55-5f855dd0fb88"
MAIN, STORAGE, PARAMS = "main.bicep", "modules/storage.bicep", "main.bicepparam"
EVENTS = "event-handler.bicep"
KEY_READ = (
    "listKeys(resourceId('Microsoft.Web/sites/host', functionAppName, 'default'), '2024-04-01')"
    ".systemKeys.webpubsub_extension"
)
# What today's phase one held before issue 8: a system key made by ARM with a newGuid() value.
OLD_SYSTEM_KEY = """
resource webPubSubSystemKey 'Microsoft.Web/sites/host/systemkeys@2024-04-01' = {
  name: '${functionApp.name}/default/webpubsub_extension'
  properties: {
    name: 'webpubsub_extension'
    value: webPubSubExtensionKey
  }
}
"""
OLD_KEY_PARAM = """@secure()
param webPubSubExtensionKey string = '${replace(newGuid(), '-', '')}'
"""
OLD_HUB = """
resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: webPubSub
  name: hubName
  properties: {
    eventHandlers: []
  }
}
"""

MUTATIONS = {
    # phase one: nothing that calls into the host, nothing that changes on a redeploy
    "system key created by ARM": Mutation(
        MAIN, "\noutput functionAppName", OLD_SYSTEM_KEY + "\noutput functionAppName", "systemkeys"
    ),
    "newGuid key parameter": Mutation(
        MAIN,
        "@secure()\nparam jwtSecretPrevious",
        OLD_KEY_PARAM + "@secure()\nparam jwtSecretPrevious",
        "newGuid() changes",
    ),
    "phase one reads the host's keys": Mutation(
        MAIN,
        "output hubName string = hubName",
        f"output hubName string = hubName\noutput key string = {KEY_READ}",
        "phase one reads the host",
    ),
    "hub back in phase one": Mutation(
        MAIN,
        "\noutput functionAppName",
        OLD_HUB + "\noutput functionAppName",
        "only event-handler.bicep may",
    ),
    # phase three: the hub and its event handler, with the key the running host made
    "event handler removed": Mutation(
        EVENTS, block(r"eventHandlers: \[.*?\n    \]"), "eventHandlers: []", "one event handler"
    ),
    "webhook path misspelled": Mutation(
        EVENTS,
        "/runtime/webhooks/webpubsub?code=",
        "/runtime/webhook/webpubsub?code=",
        "urlTemplate",
    ),
    "event handler over http": Mutation(
        EVENTS, "urlTemplate: 'https://", "urlTemplate: 'http://", "urlTemplate"
    ),
    "event handler with a parameter for the key": Mutation(
        EVENTS,
        f"?code=${{{KEY_READ}}}'",
        "?code=${hubName}'",
        "code= must be the running host's key",
    ),
    "event handler with a literal key": Mutation(
        EVENTS, f"?code=${{{KEY_READ}}}'", "?code=0123456789abcdef'", "literal credential"
    ),
    "event handler reads a function key": Mutation(
        EVENTS, ".systemKeys.webpubsub_extension", ".functionKeys.default", "the running host's key"
    ),
    "event handler reads a misspelt key": Mutation(
        EVENTS,
        ".systemKeys.webpubsub_extension",
        ".systemKeys.webpubsub_extention",
        "the running host's key",
    ),
    "event handler reads another app's keys": Mutation(
        EVENTS,
        "'Microsoft.Web/sites/host', functionAppName,",
        "'Microsoft.Web/sites/host', hubName,",
        "the running host's key",
    ),
    "event handler reads the keys with another API version": Mutation(
        EVENTS, "'default'), '2024-04-01')", "'default'), '2023-12-01')", "the running host's key"
    ),
    "event handler on a new site instead of the existing one": Mutation(
        EVENTS,
        "resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {",
        "resource functionApp 'Microsoft.Web/sites@2024-04-01' = {",
        "on the existing Function App",
    ),
    "connected event dropped": Mutation(EVENTS, "          'connected'\n", "", "systemEvents"),
    "user events narrowed": Mutation(
        EVENTS, "userEventPattern: '*'", "userEventPattern: 'message'", "userEventPattern"
    ),
    "hub type misspelled": Mutation(
        EVENTS,
        "'Microsoft.SignalRService/webPubSub/hubs@",
        "'Microsoft.SignalRService/webPubSub/hub@",
        "no Microsoft.SignalRService/webPubSub/hubs",
    ),
    "hub under a new service": Mutation(
        EVENTS,
        "resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' existing = {",
        "resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' = {",
        "parent must be the existing Web PubSub service",
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
        "var appSettings = [\n",
        "var appSettings = [\n  {\n    name: 'FUNCTIONS_WORKER_RUNTIME'\n"
        "    value: 'python'\n  }\n",
        "FlexConsumption: app setting FUNCTIONS_WORKER_RUNTIME must not be set",
    ),
    "jwt rollover setting dropped": Mutation(
        MAIN,
        block(r"\{\s*name: 'JWT_SECRET_PREVIOUS'\s*value: jwtSecretPrevious\s*\}"),
        "",
        "JWT_SECRET_PREVIOUS is not set",
    ),
    "jwt previous secret not secure": Mutation(
        MAIN,
        "@secure()\nparam jwtSecretPrevious",
        "param jwtSecretPrevious",
        "jwtSecretPrevious must be @secure()",
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
        MAIN, "    value: hubName", "    value: 'channels'", "WebPubSubHub must be the same"
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
        "value: jwtSecret\n",
        "value: 'a-literal-secret-long-enough-for-the-app-0123'\n",
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
    # the hosting plans: each evaluated as deployed
    "plan parameter loses elastic premium": Mutation(
        MAIN,
        "  'FlexConsumption'\n  'ElasticPremium'\n",
        "  'FlexConsumption'\n",
        "hostingPlan must allow",
    ),
    "plan defaults to premium": Mutation(
        MAIN,
        "param hostingPlan string = 'FlexConsumption'",
        "param hostingPlan string = 'ElasticPremium'",
        "hostingPlan must default to FlexConsumption",
    ),
    "flex plan not flex": Mutation(
        MAIN, "name: 'FC1'", "name: 'Y1'", "FlexConsumption: plan sku.name"
    ),
    "flex plan tier": Mutation(
        MAIN, "tier: 'FlexConsumption'", "tier: 'Dynamic'", "FlexConsumption: plan sku.tier"
    ),
    "premium plan sku": Mutation(
        MAIN, "name: 'EP1'", "name: 'P1v3'", "ElasticPremium: plan sku.name"
    ),
    "premium plan kind": Mutation(
        MAIN, "kind: 'elastic'", "kind: 'app'", "ElasticPremium: plan kind"
    ),
    "premium without burst": Mutation(
        MAIN,
        "maximumElasticWorkerCount: flex ? null : 20",
        "maximumElasticWorkerCount: null",
        "maximumElasticWorkerCount",
    ),
    "plan on windows": Mutation(MAIN, "reserved: true", "reserved: false", "reserved"),
    "site kind": Mutation(
        MAIN,
        "kind: 'functionapp,linux'",
        "kind: 'functionapp'",
        "app kind",
    ),
    "python version": Mutation(
        MAIN,
        "version: '3.11'",
        "version: '3.12'",
        "FlexConsumption: app properties.functionAppConfig.runtime.version",
    ),
    "premium python version": Mutation(
        MAIN,
        "'Python|3.11'",
        "'Python|3.12'",
        "ElasticPremium: app properties.siteConfig.linuxFxVersion",
    ),
    "premium without a runtime": Mutation(
        MAIN,
        "linuxFxVersion: flex ? null : 'Python|3.11'",
        "linuxFxVersion: null",
        "ElasticPremium: app properties.siteConfig.linuxFxVersion",
    ),
    "runtime name": Mutation(
        MAIN, "name: 'python'\n    version", "name: 'node'\n    version", "runtime.name"
    ),
    "flex config on premium": Mutation(
        MAIN,
        "functionAppConfig: flex ? flexConfig : null",
        "functionAppConfig: flexConfig",
        "functionAppConfig is for Flex Consumption only",
    ),
    "flex config dropped": Mutation(
        MAIN,
        "functionAppConfig: flex ? flexConfig : null",
        "functionAppConfig: null",
        "FlexConsumption: app properties.functionAppConfig.runtime.name",
    ),
    "premium settings on flex": Mutation(
        MAIN,
        "appSettings: flex ? appSettings : concat(appSettings, premiumSettings)",
        "appSettings: concat(appSettings, premiumSettings)",
        "FlexConsumption: app setting FUNCTIONS_WORKER_RUNTIME must not be set",
    ),
    "premium settings dropped": Mutation(
        MAIN,
        "appSettings: flex ? appSettings : concat(appSettings, premiumSettings)",
        "appSettings: appSettings",
        "ElasticPremium: app setting WEBSITE_CONTENTSHARE is not set",
    ),
    "premium on another functions version": Mutation(
        MAIN, "value: '~4'", "value: '~3'", "FUNCTIONS_EXTENSION_VERSION must be '~4'"
    ),
    "premium without remote build": Mutation(
        MAIN,
        block(r"\{\s*name: 'ENABLE_ORYX_BUILD'\s*value: 'true'\s*\}"),
        "",
        "ElasticPremium: app setting ENABLE_ORYX_BUILD is not set",
    ),
    "premium file share with a literal key": Mutation(
        MAIN,
        "AccountKey=${storageAccount.listKeys().keys[0].value}",
        "AccountKey=${storageAccountName}",
        "WEBSITE_CONTENTAZUREFILECONNECTIONSTRING must",
    ),
    "shared key on for flex": Mutation(
        MAIN,
        "allowSharedKeyAccess: !flex",
        "allowSharedKeyAccess: true",
        "FlexConsumption: storage allowSharedKeyAccess must be off",
    ),
    "no azd service tag": Mutation(
        MAIN, "'azd-service-name': 'api'", "'azd-service-name': 'web'", "tags.azd-service-name"
    ),
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
        MAIN, "    maximumInstanceCount: maximumInstanceCount\n", "", "maximumInstanceCount"
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
    "hub output dropped": Mutation(MAIN, "output hubName string = hubName\n", "", "output hubName"),
    "web pubsub output dropped": Mutation(
        MAIN, "output webPubSubName string = webPubSub.name\n", "", "output webPubSubName"
    ),
    "function app output dropped": Mutation(
        MAIN, "output functionAppName string = functionApp.name\n", "", "output functionAppName"
    ),
    "syntax error": Mutation(
        MAIN,
        "resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {",
        "resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {{",
        "main.bicep line",
    ),
    # storage
    "shared key allowed by default": Mutation(
        STORAGE,
        "param allowSharedKeyAccess bool = false",
        "param allowSharedKeyAccess bool = true",
        "allowSharedKeyAccess",
    ),
    "shared key always allowed": Mutation(
        STORAGE,
        "allowSharedKeyAccess: allowSharedKeyAccess",
        "allowSharedKeyAccess: true",
        "allowSharedKeyAccess",
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
