"""Guest login: a short-lived token for a display name, when the app allows it.

Off unless the GUEST_LOGIN app setting is true (on in the local settings sample, a Bicep
parameter in Azure): with it on, anyone can chat under any free name.
"""

from __future__ import annotations

from channels.models import GuestLogin, IssuedToken
from shared.errors import ForbiddenError
from shared.functions import Docs, func
from shared.services import Services
from shared.settings import GUEST_LOGIN, Settings

GUEST_TOKEN_SECONDS = 3600


@func(auth=False, docs=Docs(summary="Issue a guest token for a display name", tags=["auth"]))
async def guest_token(services: Services, data: GuestLogin) -> IssuedToken:
    if not Settings.from_env().guest_login:
        raise ForbiddenError(f"guest login is off (app setting {GUEST_LOGIN})")
    token = services.jwt.sign(
        {"userId": data.name, "role": "guest"}, expires_in=GUEST_TOKEN_SECONDS
    )
    return IssuedToken(token=token, user_id=data.name, expires_in=GUEST_TOKEN_SECONDS)
