"""`services.jwt`: HS256 tokens with the algorithm pinned and expiry required."""

from __future__ import annotations

import time
from typing import Any

import jwt

from shared.core.errors import SettingsError, UnauthorizedError
from shared.core.session import Session

JWT_SECRET = "JWT_SECRET"  # the setting that holds the secret
ALGORITHM = "HS256"
MIN_SECRET_LENGTH = 32  # as infra/main.bicep requires of jwtSecret


class JwtService:
    def __init__(self, secret: str | None, *, leeway_seconds: int = 5) -> None:
        self._secret = secret
        self._leeway = leeway_seconds

    @property
    def secret(self) -> str:
        if not self._secret:
            raise SettingsError(f"app setting {JWT_SECRET} is not set: tokens cannot be used")
        if len(self._secret) < MIN_SECRET_LENGTH:
            raise SettingsError(
                f"app setting {JWT_SECRET} must be at least {MIN_SECRET_LENGTH} characters"
            )
        return self._secret

    def sign(self, claims: dict[str, Any], *, expires_in: int = 3600) -> str:
        now = int(time.time())
        return jwt.encode({"iat": now, "exp": now + expires_in, **claims}, self.secret, ALGORITHM)

    def verify(self, token: str) -> dict[str, Any]:
        """The token's claims; `UnauthorizedError` saying why when it is not acceptable."""
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self.secret,
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
        except jwt.InvalidSignatureError as exc:
            raise UnauthorizedError("token signature is not valid") from exc
        except jwt.PyJWTError as exc:
            raise UnauthorizedError("token is not valid") from exc
        return claims

    def session(self, token: str) -> Session:
        """Verify `token` and return the session it carries (`userId` or `sub`, and `role`)."""
        claims = self.verify(token)
        user_id = claims.get("userId") or claims.get("sub")
        if not isinstance(user_id, str) or not user_id:
            raise UnauthorizedError("token has no userId")
        role = claims.get("role")
        return Session(user_id=user_id, role=role if isinstance(role, str) else None)
