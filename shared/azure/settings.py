"""App settings the runtime reads, in one place.

`APP_SETTINGS` is the complete list of names the code reads; the Bicep tests compare the
Function App's settings against it, so a setting added here must be added to `infra/` too.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.core.errors import SettingsError
from shared.core.jwt_service import JWT_SECRET, JWT_SECRET_PREVIOUS

STORAGE_CONNECTION = "AzureWebJobsStorage"
# Identity-based form (no shared key): the account name; the app's managed identity is used.
STORAGE_ACCOUNT_NAME = "AzureWebJobsStorage__accountName"
WEBPUBSUB_CONNECTION = "WebPubSubConnectionString"
WEBPUBSUB_HUB = "WebPubSubHub"
GUEST_LOGIN = "GUEST_LOGIN"  # read by the app (channels/services.py)

APP_SETTINGS: tuple[str, ...] = (
    STORAGE_CONNECTION,
    STORAGE_ACCOUNT_NAME,
    WEBPUBSUB_CONNECTION,
    WEBPUBSUB_HUB,
    JWT_SECRET,
    JWT_SECRET_PREVIOUS,
    GUEST_LOGIN,
)

DEFAULT_HUB = "channels"
# Azurite's and the Web PubSub emulator's published development keys: not secrets.
AZURITE_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"
)
EMULATOR_CONNECTION_STRING = "Endpoint=http://localhost:8080;AccessKey=ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ABCDEFGH;Version=1.0;"


@dataclass(frozen=True)
class Settings:
    """The app settings the runtime reads (from the environment)."""

    storage_connection: str | None
    storage_account_name: str | None
    webpubsub_connection: str | None
    hub: str
    jwt_secret: str | None
    jwt_secret_previous: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        # "UseDevelopmentStorage=true" means Azurite on its default ports.
        storage = env.get(STORAGE_CONNECTION) or None
        if storage and storage.strip().lower().rstrip(";") == "usedevelopmentstorage=true":
            storage = AZURITE_CONNECTION_STRING
        return cls(
            storage_connection=storage,
            storage_account_name=env.get(STORAGE_ACCOUNT_NAME) or None,
            webpubsub_connection=env.get(WEBPUBSUB_CONNECTION) or None,
            hub=env.get(WEBPUBSUB_HUB) or DEFAULT_HUB,
            jwt_secret=env.get(JWT_SECRET) or None,
            jwt_secret_previous=env.get(JWT_SECRET_PREVIOUS) or None,
        )

    def require_webpubsub(self) -> str:
        if not self.webpubsub_connection:
            raise SettingsError(f"app setting {WEBPUBSUB_CONNECTION} is not set")
        return self.webpubsub_connection
