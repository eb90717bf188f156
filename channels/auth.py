"""Guest login: a short-lived token for a display name, when the app allows it.

Off unless the GUEST_LOGIN app setting is true (on in the local settings sample, a Bicep
parameter in Azure). Each guest gets a user id of its own (`guest-<random>`); the name is only
shown, so two guests called "Alice" are two people and neither can speak as the other.
"""

from __future__ import annotations

import secrets

from channels.models import GuestLogin, IssuedToken
from channels.services import GUEST_LOGIN, AuthServices
from shared.core.errors import ForbiddenError
from shared.core.functions import Docs, func

GUEST_TOKEN_SECONDS = 3600


@func(auth=False, docs=Docs(summary="Issue a guest token for a display name", tags=["auth"]))
async def guest_token(services: AuthServices, data: GuestLogin) -> IssuedToken:
    if not services.guests.enabled:
        raise ForbiddenError(f"guest login is off (app setting {GUEST_LOGIN})")
    user_id = f"guest-{secrets.token_hex(8)}"
    token = services.jwt.sign(
        {"userId": user_id, "name": data.name, "role": "guest"}, expires_in=GUEST_TOKEN_SECONDS
    )
    return IssuedToken(token=token, user_id=user_id, name=data.name, expires_in=GUEST_TOKEN_SECONDS)
