"""Getting updates in and answers out without losing or flooding anything.

- ``inbox``: each update kept in the database before Telegram learns it arrived, adopted from
  replicas that stopped;
- ``sending``: the one way an answer is sent (``Delivery``);
- ``lanes``: answers in order per chat, few of them in the window a crash may repeat;
- ``ratelimit``: Telegram's flood limits, first come first served, shared by replicas.

May import: the ops and storage rooms.
"""
