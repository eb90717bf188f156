"""Client access tokens of the plain WebSocket server: what negotiate issues, what connect checks.

As Web PubSub's: a short-lived HS256 JWT for the client endpoint, carrying the user id (`sub`),
signed with the server's own key (never the app's JWT_SECRET, so a session token cannot open
a socket nor an access token pass for a session). The key is random per process: the
connections die with the process anyway.
"""

from __future__ import annotations

import secrets
import time

import jwt

from shared.core.runtime import ClientAccess

ALGORITHM = "HS256"
AUDIENCE = "shared.local/client"
TOKEN_SECONDS = 300  # long enough to connect; a connection outlives its token


class AccessError(Exception):
    """The access token is missing or not acceptable; the message says why (no token in it)."""


class ClientTokens:
    def __init__(self, key: str | None = None, *, lifetime_seconds: int = TOKEN_SECONDS) -> None:
        self._key = key or secrets.token_urlsafe(32)
        self.lifetime_seconds = lifetime_seconds

    def issue(self, user_id: str | None) -> str:
        now = int(time.time())
        claims: dict[str, object] = {"aud": AUDIENCE, "iat": now}
        claims["exp"] = now + self.lifetime_seconds
        if user_id:
            claims["sub"] = user_id
        return jwt.encode(claims, self._key, ALGORITHM)

    def verify(self, token: str | None) -> str | None:
        """The user id the token carries (None: anonymous); `AccessError` when it is refused."""
        if not token:
            raise AccessError("an access token is required: ?access_token=<token from negotiate>")
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                options={"require": ["exp", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AccessError("the access token has expired: negotiate again") from exc
        except jwt.PyJWTError as exc:
            raise AccessError("the access token is not valid") from exc
        user_id = claims.get("sub")
        return user_id if isinstance(user_id, str) and user_id else None


class ClientEndpoint:
    """The Negotiator of one request: URLs to this server's `/client`, as the client reached it."""

    def __init__(self, tokens: ClientTokens, base_url: str) -> None:
        self._tokens = tokens
        self._base_url = base_url

    async def client_access(self, *, user_id: str | None) -> ClientAccess:
        token = self._tokens.issue(user_id)
        url = f"{self._base_url}?access_token={token}"
        return ClientAccess(url=url, base_url=self._base_url, token=token)
