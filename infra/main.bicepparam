// Parameters for `az deployment group create` (see infra/README.md).
// Secrets are not written here: jwtSecret comes from the command line
// (`--parameters jwtSecret=...`) or from the JWT_SECRET environment variable.
using 'main.bicep'

param baseName = 'chat'
param webPubSubSku = 'Free_F1'
param hubName = 'channels'
param allowGuestLogin = false
param jwtSecret = readEnvironmentVariable('JWT_SECRET', '')
