"""A local Azure Functions host for Python v2 apps, in Python (Core Tools cannot be installed).

Loads the function app through `azure-functions`, serves its HTTP triggers under `/api`, and
serves `/runtime/webhooks/webpubsub` the way the Web PubSub extension does.
Run it with `python -m devstack.funchost`.
"""
