"""What operators watch and configure: metrics, logs, the webhook's certificate.

May import: nothing else of the bot (every room may import it). The health endpoint, which asks
the model and the database, is ``bot.health``, beside the wiring.
"""
