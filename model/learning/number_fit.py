"""The number reader's training loop and its temperature, as pytorch/examples' mnist keeps a loop: on one screen.

Strips of one batch have similar widths (sorted, then batches shuffled), so little of a batch is
padding; each strip is stretched or squeezed a little along its width first, for the width a
hand gives a digit. CTC needs only each strip's digits in order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from model.data.strips import Strips
from model.learning.number_net import NumberNet
from model.reading.graphs import Batch, log_softmax
from model.reading.number_reader import BLANK, STRIDE, WIDTHS, NumberReader, candidates, consensus, widened


@dataclass(frozen=True)
class NumberFitConfig:
    epochs: int = 7
    batch_size: int = 64
    max_lr: float = 2e-3
    weight_decay: float = 1e-4
    stretch: tuple[float, float] = (0.8, 1.25)
    """Each strip's width is multiplied by a factor in this range, every time it is seen."""
    seed: int = 0
    freeze_norm: bool = False
    """Keep batch-norm statistics as they are: fine-tuning batches are too peculiar to re-estimate them."""


def batches(strips: Strips, size: int, rng: np.random.Generator) -> Iterator[list[int]]:
    """Indices of strips of about one width, a batch at a time, batches in random order."""
    order = sorted(range(len(strips.labels)), key=lambda i: strips.pixels[i].shape[1] + rng.uniform(0, 8))
    chunks = [order[i : i + size] for i in range(0, len(order), size)]
    for k in rng.permutation(len(chunks)):
        yield chunks[k]


def stretched(pixels: np.ndarray, rng: np.random.Generator, stretch: tuple[float, float]) -> np.ndarray:
    factor = rng.uniform(*stretch)
    width = max(STRIDE, round(pixels.shape[1] * factor))
    return cv2.resize(pixels, (width, pixels.shape[0]), interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_LINEAR)


def fit_numbers(network: NumberNet, strips: Strips, reader: NumberReader, config: NumberFitConfig) -> list[float]:
    """Train ``network`` (the one ``reader`` wraps) with CTC; returns each epoch's mean loss."""
    rng = np.random.default_rng(config.seed)
    torch.manual_seed(config.seed)
    network.train().to(memory_format=torch.channels_last)
    if config.freeze_norm:
        for module in network.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.eval()
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.max_lr, weight_decay=config.weight_decay)
    steps = config.epochs * math.ceil(len(strips.labels) / config.batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.max_lr, total_steps=steps, pct_start=0.15)
    losses = []
    for epoch in range(config.epochs):
        total, count = 0.0, 0
        for chosen in tqdm(list(batches(strips, config.batch_size, rng)), desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch"):
            pixels = [stretched(strips.ink(i), rng, config.stretch) for i in chosen]
            labels = [strips.labels[i] for i in chosen]
            loss = _ctc_loss(network, reader, pixels, labels)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(network.parameters(), 5.0)
            optimizer.step()
            schedule.step()
            total, count = total + loss.item(), count + 1
        losses.append(total / max(1, count))
    network.eval()
    return losses


def _ctc_loss(network: NumberNet, reader: NumberReader, pixels: list[np.ndarray], labels: list[str]) -> torch.Tensor:
    widest = max(p.shape[1] for p in pixels)
    widest += -widest % STRIDE
    batch = np.zeros((len(pixels), 1, pixels[0].shape[0], widest), np.float32)
    for k, p in enumerate(pixels):
        batch[k, 0, :, : p.shape[1]] = p
    inputs = torch.from_numpy(reader.normalize(batch)).contiguous(memory_format=torch.channels_last)
    log_probs = F.log_softmax(network(inputs), dim=-1).transpose(0, 1)
    targets = torch.tensor([int(c) for text in labels for c in text], dtype=torch.long)
    lengths = torch.tensor([-(-p.shape[1] // STRIDE) for p in pixels])
    return F.ctc_loss(log_probs, targets, lengths, torch.tensor([len(t) for t in labels]), blank=BLANK, zero_infinity=True)


def fit_temperature(reader: NumberReader, strips: Strips, temperatures: tuple[float, ...] = tuple(np.arange(0.6, 3.01, 0.1))) -> float:
    """The temperature under which the reader's confidence (its consensus over widths) is an honest
    chance of being right on held-out strips (least log loss); the reader's own is left as it was.
    Each strip's candidate strings are found once, at the network's own scale, then rescored."""
    kept, reader.temperature = reader.temperature, 1.0
    read: list[tuple[list[np.ndarray], list[Batch], list[tuple[int, ...]], str]] = []
    for i in range(len(strips.labels)):
        variants = [widened(strips.ink(i), factor) for factor in WIDTHS]
        log_probs, lengths = reader.log_probabilities(variants)
        each = [log_probs[k, : lengths[k]] for k in range(len(variants))]
        read.append((variants, each, candidates(each), strips.labels[i]))
    reader.temperature = kept
    best, lowest = 1.0, math.inf
    for temperature in temperatures:
        loss = 0.0
        for variants, columns, found, label in read:
            scaled = [log_softmax(each / np.float32(temperature)) for each in columns]
            reading = consensus(variants, scaled, found)
            p = min(max(reading.confidence, 1e-6), 1 - 1e-6)
            loss -= math.log(p if reading.text == label else 1 - p)
        if loss < lowest:
            best, lowest = float(temperature), loss
    return best
