"""Reading a photo: the shared transform, the network, the predictor, a person's memory, the registry.

What the bot imports of the model, and all it may: nothing here imports another room of ``model``.
"""
