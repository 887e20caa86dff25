"""The handlers: what the bot does with each update, as plain async functions.

- ``photos``: a photo (or ``/read``) from admission to answer; ``/start``, ``/help``, ``/forget``,
  and one clear reply to what is not a photo;
- ``feedback``: the buttons under an answer and typed corrections;
- ``admin``: the admins' commands.

May import: the replies, delivery, reading, ops and storage rooms, ``bot.context`` and ``bot.config``.
"""
