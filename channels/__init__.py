"""The reference app's channels. Importing this package wires them."""

from channels import chat, examples

__all__ = ["chat", "examples"]
