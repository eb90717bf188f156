// Log Analytics workspace and a workspace-based Application Insights component.

param logAnalyticsName string
param appInsightsName string
param location string

resource logAnalytics 'Microsoft.OperationalInsights/workspaces@2023-09-01' = {
  name: logAnalyticsName
  location: location
  properties: {
    sku: {
      name: 'PerGB2018'
    }
    retentionInDays: 30
  }
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' = {
  name: appInsightsName
  location: location
  kind: 'web'
  properties: {
    Application_Type: 'web'
    WorkspaceResourceId: logAnalytics.id
  }
}

// An Application Insights connection string identifies where telemetry goes; it is not a
// credential (ingestion with it cannot read data), so passing it as an output is fine.
output connectionString string = appInsights.properties.ConnectionString
