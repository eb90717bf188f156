#!/bin/sh
# Phase three of the deploy, once the code is published: azd runs it as the postdeploy hook;
# on the plain `az` path (infra/README.md) export the variables below and run it by hand.
#   1. wait until the running host has made its `webpubsub_extension` system key;
#   2. deploy infra/event-handler.bicep: the hub, with an event handler that carries that key
#      (ARM reads it with listKeys(); it never passes through this script's output);
#   3. run infra/verify.py against the app (every step PASS, or this hook fails).
# Reads AZURE_RESOURCE_GROUP and main.bicep's outputs functionAppName, webPubSubName, hubName,
# appUrl (azd sets them from the deployment). Needs az (signed in), python3 3.11+ and curl.
set -eu

resource_group="${AZURE_RESOURCE_GROUP:?set AZURE_RESOURCE_GROUP to the resource group}"
app="${functionAppName:?set functionAppName (output of main.bicep)}"
web_pubsub="${webPubSubName:?set webPubSubName (output of main.bicep)}"
hub="${hubName:?set hubName (output of main.bicep)}"
url="${appUrl:?set appUrl (output of main.bicep)}"
infra="$(cd "$(dirname "$0")/.." && pwd)"

extension_key() {
  az functionapp keys list --resource-group "$resource_group" --name "$app" \
    --query systemKeys.webpubsub_extension --output tsv 2>/dev/null || true
}

echo "postdeploy: waiting for $app's webpubsub_extension system key (made when the host loads the extension)"
tries=0
while [ -z "$(extension_key)" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 40 ]; then
    echo "postdeploy: FAIL no webpubsub_extension key after 40 tries: is the code published" \
      "(az functionapp function list) and the host running (Application Insights)?" >&2
    exit 1
  fi
  curl --silent --output /dev/null --max-time 30 "$url/api/channels" || true  # wakes the host
  sleep "${KEY_POLL_SECONDS:-15}"
done

echo "postdeploy: configuring hub $hub's event handler (infra/event-handler.bicep)"
az deployment group create --resource-group "$resource_group" --name event-handler \
  --template-file "$infra/event-handler.bicep" \
  --parameters functionAppName="$app" webPubSubName="$web_pubsub" hubName="$hub" \
  --output none

venv="${VERIFY_VENV:-.azure/verify-venv}"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$infra/requirements-verify.txt"
echo "postdeploy: python infra/verify.py $url"
WEBPUBSUB_EXTENSION_KEY="$(extension_key)" "$venv/bin/python" "$infra/verify.py" "$url"
