"""Reading a photo: the shared transform, the networks' exports, the predictor, a person's memory, the registry.

What the bot imports of the model, and all it may: nothing here imports another room of ``model``,
nor torch (the bot's install has none; ``tests/test_rooms.py``).
"""
