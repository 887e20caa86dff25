"""What tests and benchmarks share: the fake Bot API and a harness to run the bot against it,
photos of digits on paper, drawn handwriting styles, seeded corrections, and where this
machine keeps MNIST and PostgreSQL.

Development code, never imported by ``bot`` or ``model``; tests import it, never each other.
"""
