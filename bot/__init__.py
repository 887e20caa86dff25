"""digitbot's Telegram service, in rooms named for their jobs, each saying what it may import:

- ``handlers``: what the bot does with each update;
- ``replies``: what a person sees, in their language;
- ``delivery``: updates in, answers out, nothing lost, nothing flooded;
- ``reading``: the model off the event loop, and each person's memory;
- ``ops``: metrics, logs, the webhook's certificate;
- ``storage`` and ``migrations``: the database, its one door and its schema's history.

Beside them, the wiring, which may import every room: ``app`` (the one Application), ``config``
(the settings), ``context`` (the services handlers get), ``health`` (the endpoint) and ``__main__``.
"""
