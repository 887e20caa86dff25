"""The digits the model learns and is judged on: MNIST, photo-like renders of it, drawn non-digits,
and the named benchmark sets with their seeds. Imports ``model.reading`` (the transform) only."""
