"""function_app as a Flex Consumption instance of its `http` function group loads it.

On Flex Consumption each webPubSubTrigger function gets its own function group, so an instance
that serves the HTTP functions has no Web PubSub trigger: the service's events reach a webhook
that finds no function and answers 404 (Azure/azure-functions-host#11493). The local host
serving this app shows the same to the verifier: every event 404.
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
