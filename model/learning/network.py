"""The CNN: small enough to ship in the repository and to run on one CPU core per photo."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

from model.reading.classes import NOT_A_DIGIT, NUM_CLASSES


def _conv(channels_in: int, channels_out: int) -> list[nn.Module]:
    return [nn.Conv2d(channels_in, channels_out, 3, padding=1, bias=False), nn.BatchNorm2d(channels_out), nn.ReLU(inplace=True)]


FEATURES = 128 * 3 * 3
"""What the classifier reads: 128 channels on a 3x3 grid, flat."""


class DigitNet(nn.Module):
    """Four conv layers with batch norm and three poolings: 28 -> 14 -> 7 -> 3, then a linear read-out.

    About 143k parameters (0.57 MB as float32): small enough to ship in the repository and to
    train on two CPU cores within the time a run may take (each card records its run's time).
    """

    def __init__(self, num_classes: int = NUM_CLASSES) -> None:
        super().__init__()
        self.num_classes = num_classes
        self.features = nn.Sequential(
            *_conv(1, 32),
            nn.MaxPool2d(2),
            *_conv(32, 64),
            *_conv(64, 64),
            nn.MaxPool2d(2),
            *_conv(64, 128),
            nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(FEATURES, num_classes))

    @classmethod
    def from_state(cls, state: dict[str, torch.Tensor]) -> DigitNet:
        """A network shaped like the saved one: versions before the eleventh class have 10 outputs
        and must stay loadable, for rollback and for registries already deployed."""
        network = cls(num_classes=state["classifier.2.weight"].shape[0])
        network.load_state_dict(state)
        return network

    @property
    def rejects(self) -> bool:
        """Has the "not a digit" output."""
        return self.num_classes > NOT_A_DIGIT

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.classifier(self.features(x))
        return logits

    def for_inference(self) -> nn.Module:
        """A serving copy of the feature layers (the classifier's input, flat): batch norm folded
        into the convolutions, channels-last memory.

        Pure speed for one core (scripts.bench photo); the outputs agree with this network's to
        float rounding. Training keeps the module as is.
        """
        self.eval()
        layers = list(self.features)
        served: list[nn.Module] = []
        for layer, after in zip(layers, [*layers[1:], None], strict=True):
            if isinstance(layer, nn.BatchNorm2d):
                continue
            if isinstance(layer, nn.Conv2d) and isinstance(after, nn.BatchNorm2d):
                layer = fuse_conv_bn_eval(layer, after)
            served.append(layer)
        return nn.Sequential(*served, nn.Flatten()).eval().to(memory_format=torch.channels_last)
