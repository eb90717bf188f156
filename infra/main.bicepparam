// Parameters of main.bicep, for `azd up` (azd reads this file) and `az deployment group create`
// (infra/README.md). Secrets are not written here: they come from the environment (azd: `azd env
// set JWT_SECRET ...`) or from the command line (`--parameters jwtSecret=...`).
using 'main.bicep'

param baseName = 'chat'
param webPubSubSku = readEnvironmentVariable('WEBPUBSUB_SKU', 'Free_F1')
param hubName = 'channels'
param hostingPlan = readEnvironmentVariable('HOSTING_PLAN', 'FlexConsumption')
param allowGuestLogin = bool(readEnvironmentVariable('GUEST_LOGIN', 'false'))
param jwtSecret = readEnvironmentVariable('JWT_SECRET', '')
param jwtSecretPrevious = readEnvironmentVariable('JWT_SECRET_PREVIOUS', '')
