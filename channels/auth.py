"""Guest login: a short-lived token for a display name, when the app allows it.

Off unless the GUEST_LOGIN app setting is true (on in the local settings sample, a Bicep
parameter in Azure): with it on, anyone can chat under any free name.
"""

from __future__ import annotations

from channels.models import GuestLogin, IssuedToken
from channels.services import GUEST_LOGIN, AuthServices
from shared.core.errors import ForbiddenError
from shared.core.functions import Docs, func

GUEST_TOKEN_SECONDS = 3600


@func(auth=False, docs=Docs(summary="Issue a guest token for a display name", tags=["auth"]))
async def guest_token(services: AuthServices, data: GuestLogin) -> IssuedToken:
    if not services.guests.enabled:
        raise ForbiddenError(f"guest login is off (app setting {GUEST_LOGIN})")
    token = services.jwt.sign(
        {"userId": data.name, "role": "guest"}, expires_in=GUEST_TOKEN_SECONDS
    )
    return IssuedToken(token=token, user_id=data.name, expires_in=GUEST_TOKEN_SECONDS)
