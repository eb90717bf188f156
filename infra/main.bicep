// The reference chat app on Azure: Function App (Flex Consumption or Elastic Premium, Python
// 3.11) + Azure Web PubSub + Table Storage, with Application Insights.
//
// Phase one of three (infra/README.md, `azd up`): provision. Phase two publishes the code;
// phase three (event-handler.bicep) creates the hub with its event handler, using the
// `webpubsub_extension` system key that the running host created. Nothing here calls into the
// Functions host, and nothing here changes when it is deployed again.
//
// The Function App's app settings are exactly the names `shared/azure/settings.py` lists in
// APP_SETTINGS (minus the ones not used in Azure) plus the platform settings named in
// tests/infra; tests/infra checks this file against that list.

targetScope = 'resourceGroup'

@description('Short name used in every resource name (letters and digits).')
@minLength(2)
@maxLength(10)
param baseName string = 'chat'

@description('Region for every resource. With FlexConsumption, one that offers it: `az functionapp list-flexconsumption-locations`.')
param location string = resourceGroup().location

@description('Web PubSub tier: Free_F1 to try it out (20 connections), Standard_S1 for production.')
@allowed([
  'Free_F1'
  'Standard_S1'
])
param webPubSubSku string = 'Free_F1'

@description('The one Web PubSub hub every channel shares (app setting WebPubSubHub).')
param hubName string = 'channels'

@description('Secret that signs and verifies session tokens (app setting JWT_SECRET); at least 32 characters.')
@secure()
@minLength(32)
param jwtSecret string

@description('During a JWT_SECRET rotation, the secret it replaces (app setting JWT_SECRET_PREVIOUS): tokens signed with it still verify. Empty otherwise.')
@secure()
param jwtSecretPrevious string = ''

@description('Allow the chat page\'s guest login (app setting GUEST_LOGIN).')
param allowGuestLogin bool = false

// FlexConsumption scales each function group on its own, and a webPubSubTrigger gets its own
// group: the webhook may answer 404 on the instances that serve HTTP (infra/README.md,
// azure-functions-host#11493). ElasticPremium runs every function on every instance.
@description('Hosting plan: FlexConsumption (pay per use) or ElasticPremium (every function on every instance, EP1).')
@allowed([
  'FlexConsumption'
  'ElasticPremium'
])
param hostingPlan string = 'FlexConsumption'

@description('Most instances the Flex Consumption app scales out to (40-1000).')
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int = 100

@description('Memory of each Flex Consumption instance, in MB.')
@allowed([
  512
  2048
  4096
])
param instanceMemoryMB int = 2048

var flex = hostingPlan == 'FlexConsumption'
var suffix = uniqueString(resourceGroup().id, baseName)
var name = toLower(baseName)
var storageAccountName = take('st${replace(name, '-', '')}${suffix}', 24)
var functionAppName = 'func-${name}-${suffix}'
var deploymentContainerName = 'app-package-${take(functionAppName, 32)}'

// Built-in role definition ids.
var storageBlobDataOwner = 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b'
var storageTableDataContributor = '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3'

module storage 'modules/storage.bicep' = {
  name: 'storage'
  params: {
    name: storageAccountName
    location: location
    deploymentContainerName: deploymentContainerName
    // Elastic Premium keeps the app's files on an Azure Files share, which takes only a key.
    allowSharedKeyAccess: !flex
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${name}-${suffix}'
    appInsightsName: 'appi-${name}-${suffix}'
    location: location
  }
}

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' = {
  name: 'wps-${name}-${suffix}'
  location: location
  sku: {
    name: webPubSubSku
    tier: webPubSubSku == 'Free_F1' ? 'Free' : 'Standard'
    capacity: 1
  }
  properties: {
    // Access keys stay on: the Web PubSub extension checks each upstream request's
    // `ce-signature` with the access key, and negotiate signs client tokens with it.
    disableLocalAuth: false
    publicNetworkAccess: 'Enabled'
  }
}

// What differs between the two plans; everything else is shared.
var plans = {
  FlexConsumption: {
    kind: 'functionapp'
    sku: {
      name: 'FC1'
      tier: 'FlexConsumption'
    }
  }
  ElasticPremium: {
    kind: 'elastic'
    sku: {
      name: 'EP1'
      tier: 'ElasticPremium'
    }
  }
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}-${suffix}'
  location: location
  kind: plans[hostingPlan].kind
  sku: plans[hostingPlan].sku
  properties: {
    reserved: true // Linux
    // Elastic Premium: EP1 bursts to 20 instances (every Linux region allows that many); raise
    // it with `az functionapp plan update --max-burst` where the region allows more.
    maximumElasticWorkerCount: flex ? null : 20
  }
}

// Flex Consumption: runtime, scale and the deployment container (identity) in functionAppConfig.
var flexConfig = {
  deployment: {
    storage: {
      type: 'blobContainer'
      value: storage.outputs.deploymentContainerUrl
      authentication: {
        type: 'SystemAssignedIdentity'
      }
    }
  }
  scaleAndConcurrency: {
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
  runtime: {
    name: 'python'
    version: '3.11'
  }
}

// The settings the code reads (shared/azure/settings.py), the same on both plans.
var appSettings = [
  {
    // Identity form of AzureWebJobsStorage: the host and the app's table client use the
    // system-assigned identity; AzureWebJobsStorage itself is left unset on purpose.
    name: 'AzureWebJobsStorage__accountName'
    value: storage.outputs.name
  }
  {
    // The extension needs the access key to verify upstream signatures. Rotating the key:
    // infra/hooks/rotate-webpubsub-key.sh (infra/README.md).
    name: 'WebPubSubConnectionString'
    value: webPubSub.listKeys().primaryConnectionString
  }
  {
    name: 'WebPubSubHub'
    value: hubName
  }
  {
    name: 'JWT_SECRET'
    value: jwtSecret
  }
  {
    name: 'JWT_SECRET_PREVIOUS'
    value: jwtSecretPrevious
  }
  {
    name: 'GUEST_LOGIN'
    value: allowGuestLogin ? 'true' : 'false'
  }
  {
    name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
    value: monitoring.outputs.connectionString
  }
]

resource storageAccount 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {
  name: storageAccountName
}

// Elastic Premium takes the runtime from these settings (Flex Consumption refuses them), and
// its code lives on an Azure Files share, which only a key opens. Only the host's file share
// uses that key; tables, blobs and the deployment still go through the identity.
var premiumSettings = [
  {
    name: 'FUNCTIONS_EXTENSION_VERSION'
    value: '~4'
  }
  {
    name: 'FUNCTIONS_WORKER_RUNTIME'
    value: 'python'
  }
  {
    // A zip deploy (azd, az ... config-zip) installs requirements.txt on Azure, as on Flex.
    name: 'SCM_DO_BUILD_DURING_DEPLOYMENT'
    value: 'true'
  }
  {
    name: 'ENABLE_ORYX_BUILD'
    value: 'true'
  }
  {
    name: 'WEBSITE_CONTENTAZUREFILECONNECTIONSTRING'
    value: 'DefaultEndpointsProtocol=https;AccountName=${storageAccountName};EndpointSuffix=${environment().suffixes.storage};AccountKey=${storageAccount.listKeys().keys[0].value}'
  }
  {
    name: 'WEBSITE_CONTENTSHARE'
    value: toLower(functionAppName)
  }
]

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  tags: {
    // `azd deploy` publishes the `api` service of azure.yaml to the resource with this tag.
    'azd-service-name': 'api'
  }
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: flex ? flexConfig : null
    siteConfig: {
      minTlsVersion: '1.2'
      linuxFxVersion: flex ? null : 'Python|3.11'
      appSettings: flex ? appSettings : concat(appSettings, premiumSettings)
    }
  }
  dependsOn: [
    storage
  ]
}

// Blob Data Owner: the host's own storage (keys, leases) and the deployment container.
// Table Data Contributor: the app's connection and history tables (and host diagnostics).
// No queue role: nothing here uses queue or blob triggers.
module storageRoles 'modules/storage-roles.bicep' = {
  name: 'storage-roles'
  params: {
    storageAccountName: storageAccountName
    principalId: functionApp.identity.principalId
    roleDefinitionIds: [
      storageBlobDataOwner
      storageTableDataContributor
    ]
  }
  dependsOn: [
    storage
  ]
}

// No hub here: event-handler.bicep creates it with its event handler once the code runs, so
// deploying this file again never touches the hub's event handler.

// Phase three (event-handler.bicep) and the verifier read these; azd passes them to its hooks
// as environment variables of the same names.
output functionAppName string = functionApp.name
output webPubSubName string = webPubSub.name
output hubName string = hubName
output hostingPlan string = hostingPlan
output appUrl string = 'https://${functionApp.properties.defaultHostName}'
output chatUrl string = 'https://${functionApp.properties.defaultHostName}/api/chat'
output negotiateUrl string = 'https://${functionApp.properties.defaultHostName}/api/negotiate'

