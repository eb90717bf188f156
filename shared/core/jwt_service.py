"""`services.jwt`: HS256 tokens with the algorithm pinned and expiry required.

Rotation without downtime: tokens are signed with the current secret (`JWT_SECRET`) and
verified with it or, while a rotation is under way, with the previous one
(`JWT_SECRET_PREVIOUS`); see infra/README.md.
"""

from __future__ import annotations

import time
from typing import Any

import jwt

from shared.core.errors import SettingsError, UnauthorizedError
from shared.core.session import Session, check_user_id

JWT_SECRET = "JWT_SECRET"  # the setting that holds the secret
# During a rotation, the secret JWT_SECRET had before: it still verifies, it never signs.
JWT_SECRET_PREVIOUS = "JWT_SECRET_PREVIOUS"
ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32  # as infra/main.bicep requires of jwtSecret
CONNECT_USE = "connect"  # the `use` claim of a token that carries a session to connect


class JwtService:
    def __init__(
        self, secret: str | None, *, previous: str | None = None, leeway_seconds: int = 5
    ) -> None:
        self._secret = secret
        self._previous = previous or None
        self._leeway = leeway_seconds

    @property
    def secret(self) -> str:
        """The current secret: it signs every token."""
        return _checked(JWT_SECRET, self._secret)

    def _verifying_secrets(self) -> tuple[str, ...]:
        if self._previous is None:
            return (self.secret,)
        return (self.secret, _checked(JWT_SECRET_PREVIOUS, self._previous))

    def sign(self, claims: dict[str, Any], *, expires_in: int = 3600) -> str:
        now = int(time.time())
        return jwt.encode({"iat": now, "exp": now + expires_in, **claims}, self.secret, ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; `UnauthorizedError` saying why when it is not acceptable.

        The signature may be the current secret's or the previous one's; every other check
        (algorithm, expiry) is the same for both.
        """
        for secret in self._verifying_secrets():
            try:
                return self._decode(token, secret)
            except jwt.InvalidSignatureError:
                continue  # maybe signed before a rotation: try the previous secret
        raise UnauthorizedError("token signature is not valid")

    def _decode(self, token: str, secret: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp"]},
                leeway=self._leeway,
            )
        except jwt.ExpiredSignatureError as exc:
            raise UnauthorizedError("token has expired") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise UnauthorizedError(f"token is missing the '{exc.claim}' claim") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise UnauthorizedError(f"token must be signed with {ALGORITHM}") from exc
        except jwt.InvalidSignatureError:
            raise  # the caller tries the next secret
        except jwt.PyJWTError as exc:
            raise UnauthorizedError("token is not valid") from exc
        return claims

    def session(self, token: str) -> Session:
        """Verify `token` and return the session it carries (`userId` or `sub`, and `role`)."""
        return self._session(self.verify(token), use=None)

    def connect_token(self, token: str) -> tuple[Session, str]:
        """Verify a Bearer `token`: its session, and a token carrying that session to the
        connect event (in the connection URL), which expires with `token` and serves nothing
        else (`session` refuses it)."""
        claims = self.verify(token)
        session = self._session(claims, use=None)
        carried = {
            **session.model_dump(mode="json", by_alias=True),
            "use": CONNECT_USE,
            "iat": int(time.time()),
            "exp": claims["exp"],
        }
        return session, jwt.encode(carried, self.secret, ALGORITHM)

    def connect_session(self, token: str, user_id: str) -> Session:
        """The session a `connect_token` carries, for the connection of `user_id` only."""
        session = self._session(self.verify(token), use=CONNECT_USE)
        if session.user_id != user_id:
            raise UnauthorizedError("the connection URL's session is another user's")
        return session

    @staticmethod
    def _session(claims: dict[str, Any], *, use: str | None) -> Session:
        if claims.get("use") != use:
            raise UnauthorizedError(
                "token is for connecting only" if use is None else "token is not for connecting"
            )
        user_id = claims.get("userId") or claims.get("sub")
        if not isinstance(user_id, str) or not user_id:
            raise UnauthorizedError("token has no userId")
        role = claims.get("role")
        return Session(user_id=check_user_id(user_id), role=role if isinstance(role, str) else None)


def _checked(setting: str, secret: str | None) -> str:
    if not secret:
        raise SettingsError(f"app setting {setting} is not set: tokens cannot be used")
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(
            f"app setting {setting} must be at least {MIN_SECRET_LENGTH} characters"
        )
    return secret
