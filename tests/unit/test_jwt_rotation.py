"""JWT_SECRET rotation: sign with the current secret, verify with the current or the previous.

The runtime is built from app settings exactly as in Azure (Settings.from_env -> build_parts),
so these tests also show that JWT_SECRET_PREVIOUS reaches the service that checks tokens.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import jwt as pyjwt
import pytest

from shared.errors import UnauthorizedError
from shared.jwt_service import JwtService
from shared.runtime import build_parts
from shared.settings import EMULATOR_CONNECTION_STRING, Settings, SettingsError
from shared.wiring import ChannelRegistry

OLD = "old-secret-" + "a" * 64  # long enough for HS512 too
NEW = "new-secret-" + "b" * 32
OTHER = "someone-elses-secret-" + "c" * 32
AZURITE = "UseDevelopmentStorage=true"


async def jwt_from_settings(**values: str) -> JwtService:
    env = {"AzureWebJobsStorage": AZURITE, "WebPubSubConnectionString": EMULATOR_CONNECTION_STRING}
    parts = build_parts(Settings.from_env({**env, **values}), ChannelRegistry())
    for closer in parts.closers:  # no request was made: the clients only need closing
        await closer.aclose()
    return parts.jwt


def signed(secret: str, expires_in: int = 600, **claims: object) -> str:
    now = int(time.time())
    return pyjwt.encode(
        {"userId": "ada", "iat": now, "exp": now + expires_in, **claims}, secret, "HS256"
    )


@pytest.fixture
async def rotating() -> AsyncIterator[JwtService]:
    """Mid-rotation: JWT_SECRET is the new secret, JWT_SECRET_PREVIOUS the old one."""
    yield await jwt_from_settings(JWT_SECRET=NEW, JWT_SECRET_PREVIOUS=OLD)


async def test_a_token_signed_before_the_rotation_still_verifies(rotating: JwtService) -> None:
    assert rotating.session(signed(OLD)).user_id == "ada"


async def test_a_token_signed_with_the_current_secret_verifies(rotating: JwtService) -> None:
    assert rotating.session(signed(NEW)).user_id == "ada"


async def test_new_tokens_are_signed_with_the_current_secret_only(rotating: JwtService) -> None:
    token = rotating.sign({"userId": "bob"})
    assert pyjwt.decode(token, NEW, algorithms=["HS256"])["userId"] == "bob"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, OLD, algorithms=["HS256"])


async def test_a_token_signed_with_neither_secret_is_refused(rotating: JwtService) -> None:
    with pytest.raises(UnauthorizedError, match="token signature is not valid"):
        rotating.verify(signed(OTHER))


async def test_the_previous_secret_does_not_relax_expiry(rotating: JwtService) -> None:
    with pytest.raises(UnauthorizedError, match="token has expired"):
        rotating.verify(signed(OLD, expires_in=-60))


async def test_the_previous_secret_does_not_relax_the_pinned_algorithm(
    rotating: JwtService,
) -> None:
    now = int(time.time())
    token = pyjwt.encode({"userId": "m", "exp": now + 60}, OLD, "HS512")
    with pytest.raises(UnauthorizedError, match="token must be signed with HS256"):
        rotating.verify(token)


async def test_once_the_rotation_is_over_old_tokens_are_refused() -> None:
    done = await jwt_from_settings(JWT_SECRET=NEW, JWT_SECRET_PREVIOUS="")
    assert done.session(signed(NEW)).user_id == "ada"
    with pytest.raises(UnauthorizedError, match="token signature is not valid"):
        done.verify(signed(OLD))


async def test_a_short_previous_secret_is_named_in_the_error() -> None:
    service = await jwt_from_settings(JWT_SECRET=NEW, JWT_SECRET_PREVIOUS="too-short")
    with pytest.raises(SettingsError, match="JWT_SECRET_PREVIOUS must be at least 32"):
        service.verify(signed(NEW))
