"""A Web PubSub emulator in Python: client WebSockets, REST data plane, CloudEvents upstream.

Run it with `python -m devstack.webpubsub`, or in-process::

    async with Emulator(port=0) as emulator:
        client = WebPubSubServiceClient.from_connection_string(emulator.connection_string, hub)
"""

from .config import EmulatorConfig, UpstreamConfig
from .server import Emulator

__all__ = ["Emulator", "EmulatorConfig", "UpstreamConfig"]
