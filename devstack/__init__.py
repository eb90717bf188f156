"""Local stack for development and tests: Azurite, a Web PubSub emulator, a Functions host.

Never imported by `shared/` or `channels/`, and not deployed.
"""
