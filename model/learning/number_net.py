"""The number reader's network: a strip of writing in, per column a digit or "nothing here" out.

A small convolutional stack turns the strip (``StripParams.height`` rows) into one feature
column per four pixels of width; a bidirectional GRU lets each column see the whole number,
so that the halves of a wide 0 and two touching 0s can be told apart by their surroundings;
a linear read-out gives each column's probabilities of the ten digits and of CTC's blank.
Trained with CTC, it needs no digit boxes: only each strip's digits in order.
"""

from __future__ import annotations

import torch
from torch import nn

from model.reading.number_reader import CLASSES


def _conv(channels_in: int, channels_out: int, stride: int = 1) -> list[nn.Module]:
    conv = nn.Conv2d(channels_in, channels_out, 3, stride=stride, padding=1, bias=False)
    return [conv, nn.BatchNorm2d(channels_out), nn.ReLU(inplace=True)]


class NumberNet(nn.Module):
    """Convolutions down to one row (28 -> 14 -> 7 -> 3 -> 1), a bidirectional GRU, a linear read-out per column."""

    def __init__(self, height: int = 28, hidden: int = 64) -> None:
        super().__init__()
        self.height, self.hidden = height, hidden
        self.features = nn.Sequential(
            *_conv(1, 16, stride=2),
            *_conv(16, 32),
            nn.MaxPool2d(2),
            *_conv(32, 64),
            *_conv(64, 64),
            nn.MaxPool2d((2, 1)),
            *_conv(64, 96),
            nn.Conv2d(96, 96, (height // 8, 1)),
            nn.ReLU(inplace=True),
        )
        self.context = nn.GRU(96, hidden, batch_first=True, bidirectional=True)
        self.readout = nn.Linear(2 * hidden, CLASSES)

    def forward(self, strips: torch.Tensor) -> torch.Tensor:
        """Log-probabilities per column, (batch, columns, classes), for strips (batch, 1, height, width)."""
        columns = self.features(strips).squeeze(2).transpose(1, 2)
        context, _ = self.context(columns)
        logits: torch.Tensor = self.readout(context)
        return logits
