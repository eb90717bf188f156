"""function_app as a Flex Consumption instance of its `http` function group loads it.

On Flex Consumption each webPubSubTrigger function gets its own function group, so an instance
that serves the HTTP functions has no Web PubSub trigger: events that reach it find no
function and get 404 (Azure/azure-functions-host#11493). On its own, such a host refuses the
abuse-protection handshake (400: no Web PubSub trigger loaded), and the local host serving
this app shows that to the verifier.
"""

from __future__ import annotations

import azure.functions as func

import function_app

WEBPUBSUB_TRIGGER = "webPubSubTrigger"


class HttpGroupInstance(func.FunctionApp):
    """The same functions as function_app.app, minus the Web PubSub triggers."""

    def get_functions(self) -> list[func.Function]:
        functions = function_app.app.get_functions()  # the library builds them once only
        return [f for f in functions if getattr(f.get_trigger(), "type", "") != WEBPUBSUB_TRIGGER]


app = HttpGroupInstance(http_auth_level=func.AuthLevel.ANONYMOUS)
