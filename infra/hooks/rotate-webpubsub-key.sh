#!/bin/sh
# Rotate both Web PubSub access keys without a refused event (infra/README.md, "Rotation").
# The service signs every event with both keys, and the app checks the one in its
# WebPubSubConnectionString; so the app never holds the key being regenerated:
#   1. point the app at the secondary key;  2. regenerate the primary;
#   3. point the app back at the (new) primary;  4. regenerate the secondary.
# Do not redeploy main.bicep while this runs (it sets the primary). No key is printed.
# Reads AZURE_RESOURCE_GROUP, functionAppName and webPubSubName, as postdeploy.sh does.
set -eu

resource_group="${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP to the resource group}"
app="${functionAppName:?set functionAppName (output of main.bicep)}"
web_pubsub="${webPubSubName:?set webPubSubName (output of main.bicep)}"
settle="${ROTATE_SETTLE_SECONDS:-60}"  # for every instance to restart on the new setting

settings_file="$(mktemp)"
trap 'rm -f "$settings_file"' EXIT
chmod 600 "$settings_file"

use_key() {  # $1: primary or secondary
  value="$(az webpubsub key show --resource-group "$resource_group" --name "$web_pubsub" \
    --query "${1}ConnectionString" --output tsv)"
  printf '[{"name": "WebPubSubConnectionString", "value": "%s", "slotSetting": false}]' \
    "$value" >"$settings_file"
  az functionapp config appsettings set --resource-group "$resource_group" --name "$app" \
    --settings "@$settings_file" --output none
  echo "rotate: the app now checks events with the $1 key; waiting ${settle}s"
  sleep "$settle"
}

regenerate() {  # $1: primary or secondary
  az webpubsub key regenerate --resource-group "$resource_group" --name "$web_pubsub" \
    --key-type "$1" --output none
  echo "rotate: regenerated the $1 key"
}

use_key secondary
regenerate primary
use_key primary
regenerate secondary
echo "rotate: done; clients holding a negotiate URL from before step 4 negotiate again"
