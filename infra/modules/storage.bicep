// Storage account for the Functions host (AzureWebJobsStorage), the app's tables and the
// Flex Consumption deployment container. The Function App reaches it with its managed
// identity, so shared-key access is off, except on Elastic Premium, whose Azure Files content
// share only takes a key.

@description('Storage account name: 3-24 lowercase letters and digits, globally unique.')
@minLength(3)
@maxLength(24)
param name string

param location string

@description('Blob container that holds the deployment package of the Flex Consumption app.')
param deploymentContainerName string

@description('Allow shared-key access: only for the Azure Files content share of Elastic Premium.')
param allowSharedKeyAccess bool = false

resource storage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: name
  location: location
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    supportsHttpsTrafficOnly: true
    minimumTlsVersion: 'TLS1_2'
    allowBlobPublicAccess: false
    // The host (AzureWebJobsStorage__accountName), the app's table client and the deployment
    // container all authenticate with the Function App's managed identity.
    allowSharedKeyAccess: allowSharedKeyAccess
    defaultToOAuthAuthentication: true
    accessTier: 'Hot'
  }
}

resource blobService 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: storage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: blobService
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

output name string = storage.name
output deploymentContainerUrl string = '${storage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
