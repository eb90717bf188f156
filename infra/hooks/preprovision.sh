#!/bin/sh
# azd preprovision hook: main.bicepparam reads JWT_SECRET from the azd environment. Make one
# the first time (64 hex characters) and keep it: a new secret on every run would sign out
# every user. The value is never printed.
set -eu

if [ -z "$(azd env get-value JWT_SECRET 2>/dev/null || true)" ]; then
  azd env set JWT_SECRET "$(python3 -c 'import secrets; print(secrets.token_hex(32))')" >/dev/null
  echo "preprovision: made a JWT_SECRET for this azd environment (azd env get-value JWT_SECRET)"
fi
