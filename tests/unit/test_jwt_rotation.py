"""JWT_SECRET rotation in the core: sign with the current secret, verify with it or the previous.

tests/azurite/test_jwt_rotation_settings.py shows the app settings reach this service.
"""

from __future__ import annotations

import time

import jwt as pyjwt
import pytest

from shared.core.errors import SettingsError, UnauthorizedError
from shared.core.jwt_service import JwtService

OLD = "old-secret-" + "a" * 64  # long enough for HS512 too
NEW = "new-secret-" + "b" * 32
OTHER = "someone-elses-secret-" + "c" * 32


def signed(secret: str, expires_in: int = 600, **claims: object) -> str:
    now = int(time.time())
    return pyjwt.encode(
        {"userId": "ada", "iat": now, "exp": now + expires_in, **claims}, secret, "HS256"
    )


@pytest.fixture
def rotating() -> JwtService:
    """Mid-rotation: the new secret is current, the old one previous."""
    return JwtService(NEW, previous=OLD)


def test_a_token_signed_before_the_rotation_still_verifies(rotating: JwtService) -> None:
    assert rotating.session(signed(OLD)).user_id == "ada"


def test_a_token_signed_with_the_current_secret_verifies(rotating: JwtService) -> None:
    assert rotating.session(signed(NEW)).user_id == "ada"


def test_new_tokens_are_signed_with_the_current_secret_only(rotating: JwtService) -> None:
    token = rotating.sign({"userId": "bob"})
    assert pyjwt.decode(token, NEW, algorithms=["HS256"])["userId"] == "bob"
    with pytest.raises(pyjwt.InvalidSignatureError):
        pyjwt.decode(token, OLD, algorithms=["HS256"])


def test_a_token_signed_with_neither_secret_is_refused(rotating: JwtService) -> None:
    with pytest.raises(UnauthorizedError, match="token signature is not valid"):
        rotating.verify(signed(OTHER))


def test_the_previous_secret_does_not_relax_expiry(rotating: JwtService) -> None:
    with pytest.raises(UnauthorizedError, match="token has expired"):
        rotating.verify(signed(OLD, expires_in=-60))


def test_the_previous_secret_does_not_relax_the_pinned_algorithm(rotating: JwtService) -> None:
    token = pyjwt.encode({"userId": "m", "exp": int(time.time()) + 60}, OLD, "HS512")
    with pytest.raises(UnauthorizedError, match="token must be signed with HS256"):
        rotating.verify(token)


def test_without_a_previous_secret_old_tokens_are_refused() -> None:
    done = JwtService(NEW, previous="")
    assert done.session(signed(NEW)).user_id == "ada"
    with pytest.raises(UnauthorizedError, match="token signature is not valid"):
        done.verify(signed(OLD))


def test_a_short_previous_secret_is_named_in_the_error() -> None:
    with pytest.raises(SettingsError, match="JWT_SECRET_PREVIOUS must be at least 32"):
        JwtService(NEW, previous="too-short").verify(signed(NEW))
