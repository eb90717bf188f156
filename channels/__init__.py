"""The reference app's channels. Importing this package wires them."""

from channels import board, chat, examples

__all__ = ["board", "chat", "examples"]
