"""What the digit network's outputs mean: the ten digits, then "not a digit"."""

NUM_CLASSES = 11
NOT_A_DIGIT = 10
"""The eleventh output: a face, a star or a smudge must have somewhere to go but a digit."""
