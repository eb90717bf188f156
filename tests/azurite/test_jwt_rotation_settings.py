"""The app settings JWT_SECRET and JWT_SECRET_PREVIOUS reach the runtime's token service as in
Azure (Settings.from_env -> build_parts): a rotation is a settings change, nothing else."""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest

from shared.azure.runtime import build_parts
from shared.azure.settings import APP_SETTINGS, EMULATOR_CONNECTION_STRING, Settings
from shared.core.errors import UnauthorizedError
from shared.core.jwt_service import JwtService
from shared.core.wiring import ChannelRegistry

OLD = "old-secret-" + "a" * 32
NEW = "new-secret-" + "b" * 32


async def runtime_jwt(**values: str) -> JwtService:
    env = {
        "AzureWebJobsStorage": "UseDevelopmentStorage=true",
        "WebPubSubConnectionString": EMULATOR_CONNECTION_STRING,
        **values,
    }
    parts = build_parts(Settings.from_env(env), ChannelRegistry())
    for closer in parts.closers:  # no request was made: the clients only need closing
        await closer.aclose()
    return parts.jwt


def signed(secret: str) -> str:
    return pyjwt.encode({"userId": "ada", "exp": int(time.time()) + 600}, secret, "HS256")


def test_the_previous_secret_is_an_app_setting_infra_must_set() -> None:
    assert "JWT_SECRET_PREVIOUS" in APP_SETTINGS


async def test_mid_rotation_the_runtime_accepts_old_and_new_tokens() -> None:
    jwt = await runtime_jwt(JWT_SECRET=NEW, JWT_SECRET_PREVIOUS=OLD)
    assert jwt.session(signed(OLD)).user_id == "ada"
    assert jwt.session(signed(NEW)).user_id == "ada"
    assert pyjwt.decode(jwt.sign({"userId": "bob"}), NEW, algorithms=["HS256"])["userId"] == "bob"


async def test_an_empty_previous_setting_ends_the_rotation() -> None:
    jwt = await runtime_jwt(JWT_SECRET=NEW, JWT_SECRET_PREVIOUS="")
    with pytest.raises(UnauthorizedError, match="token signature is not valid"):
        jwt.verify(signed(OLD))
