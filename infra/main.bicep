// The reference chat app on Azure: Function App (Flex Consumption, Python 3.11) + Azure Web
// PubSub + Table Storage, with Application Insights. Deploy steps: infra/README.md.
//
// The Function App's app settings are exactly the names `shared/settings.py` lists in
// APP_SETTINGS (minus the ones not used in Azure) plus the platform settings named in
// tests/infra; tests/infra checks this file against that list.

targetScope = 'resourceGroup'

@description('Short name used in every resource name (letters and digits).')
@minLength(2)
@maxLength(10)
param baseName string = 'chat'

@description('Region for every resource. It must offer Flex Consumption: `az functionapp list-flexconsumption-locations`.')
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

@description('Allow the chat page\'s guest login (app setting GUEST_LOGIN).')
param allowGuestLogin bool = false

// The Web PubSub extension authenticates the service's upstream calls with the host system
// key `webpubsub_extension`. The host only creates that key once code is deployed, so we
// create it here with our own value and put the same value in the hub's event handler URL.
// A new value is generated on every deployment unless one is passed; both places change
// together, so rotating it is harmless.
@description('Value of the Functions host system key `webpubsub_extension`. Leave it to the default to generate one.')
@secure()
param webPubSubExtensionKey string = '${replace(newGuid(), '-', '')}${replace(newGuid(), '-', '')}'

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

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: 'plan-${name}-${suffix}'
  location: location
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true // Linux
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: functionAppName
  location: location
  kind: 'functionapp,linux'
  identity: {
    type: 'SystemAssigned'
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    functionAppConfig: {
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
    siteConfig: {
      minTlsVersion: '1.2'
      // Flex Consumption takes the runtime from functionAppConfig, so FUNCTIONS_WORKER_RUNTIME
      // and FUNCTIONS_EXTENSION_VERSION are not (and may not be) set here.
      appSettings: [
        {
          // Identity form of AzureWebJobsStorage: the host and the app's table client use the
          // system-assigned identity; AzureWebJobsStorage itself is left unset on purpose.
          name: 'AzureWebJobsStorage__accountName'
          value: storage.outputs.name
        }
        {
          // The extension needs the access key to verify upstream signatures.
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
          name: 'GUEST_LOGIN'
          value: allowGuestLogin ? 'true' : 'false'
        }
        {
          name: 'APPLICATIONINSIGHTS_CONNECTION_STRING'
          value: monitoring.outputs.connectionString
        }
      ]
    }
  }
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

// The host keeps its keys in blob storage, through the identity: the roles come first.
resource webPubSubSystemKey 'Microsoft.Web/sites/host/systemkeys@2024-04-01' = {
  name: '${functionApp.name}/default/webpubsub_extension'
  properties: {
    name: 'webpubsub_extension'
    value: webPubSubExtensionKey
  }
  dependsOn: [
    storageRoles
  ]
}

resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: webPubSub
  name: hubName
  properties: {
    // Clients connect with the token that /api/negotiate hands out.
    anonymousConnectPolicy: 'deny'
    eventHandlers: [
      {
        urlTemplate: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/webpubsub?code=${webPubSubExtensionKey}'
        userEventPattern: '*'
        systemEvents: [
          'connect'
          'connected'
          'disconnected'
        ]
      }
    ]
  }
  dependsOn: [
    webPubSubSystemKey
  ]
}

output functionAppName string = functionApp.name
output appUrl string = 'https://${functionApp.properties.defaultHostName}'
output chatUrl string = 'https://${functionApp.properties.defaultHostName}/api/chat'
output negotiateUrl string = 'https://${functionApp.properties.defaultHostName}/api/negotiate'
output hubName string = hub.name
