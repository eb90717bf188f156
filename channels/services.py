"""The app's own services: built once per process by the runtime, typed for the functions."""

from __future__ import annotations

import os
from dataclasses import dataclass

from shared.core.services import AppServices, Services

GUEST_LOGIN = "GUEST_LOGIN"  # app setting: "true" lets anyone chat under a display name


@dataclass(frozen=True)
class GuestPolicy:
    enabled: bool

    @classmethod
    def from_env(cls) -> GuestPolicy:
        return cls(enabled=os.environ.get(GUEST_LOGIN, "").strip().lower() in {"1", "true", "yes"})


@dataclass
class AuthServices(Services):
    """What the guest login function uses beyond the core services."""

    guests: GuestPolicy


services = AppServices(singleton=lambda: {"guests": GuestPolicy.from_env()})
"""Handed to every runtime that serves these channels (Azure, the plain WebSocket server)."""
