"""What a person sees, in their language: pure functions of what was read, no I/O.

- ``answer``: one answer, typed, as it is stored and redrawn;
- ``texts``: every message's words and the answer's buttons;
- ``picture``: the boxed photo;
- ``i18n`` and ``talk``: the catalogs (``locale``) and replying in the user's language.

May import: ``model.reading`` (what was read); no other room of the bot.
"""
