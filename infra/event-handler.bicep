// Phase three of the deploy (infra/README.md; azd's postdeploy hook): the hub and its event
// handler, deployed after the code is published, when the running Functions host has created
// its `webpubsub_extension` system key. The key is read here, never written: deploying this
// file again changes nothing unless the host's key did.

targetScope = 'resourceGroup'

@description('The Function App: output functionAppName of main.bicep.')
param functionAppName string

@description('The Web PubSub service: output webPubSubName of main.bicep.')
param webPubSubName string

@description('The hub every channel shares: output hubName of main.bicep.')
param hubName string

resource functionApp 'Microsoft.Web/sites@2024-04-01' existing = {
  name: functionAppName
}

resource webPubSub 'Microsoft.SignalRService/webPubSub@2024-03-01' existing = {
  name: webPubSubName
}

resource hub 'Microsoft.SignalRService/webPubSub/hubs@2024-03-01' = {
  parent: webPubSub
  name: hubName
  properties: {
    // Clients connect with the token that /api/negotiate hands out.
    anonymousConnectPolicy: 'deny'
    eventHandlers: [
      {
        // The host created the key when the Web PubSub extension first loaded (phase two).
        urlTemplate: 'https://${functionApp.properties.defaultHostName}/runtime/webhooks/webpubsub?code=${listKeys(resourceId('Microsoft.Web/sites/host', functionAppName, 'default'), '2024-04-01').systemKeys.webpubsub_extension}'
        userEventPattern: '*'
        systemEvents: [
          'connect'
          'connected'
          'disconnected'
        ]
      }
    ]
  }
}

output hubName string = hub.name
