"""Training and calibration: the loop, the photo-aware data, and the temperature.

Kept apart from ``scripts/train.py`` so retraining (fine-tuning on corrections) reuses
the same loop, augmentation and calibration.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from torch import nn
from tqdm import tqdm

from model.data.digits import Digits
from model.reading.classes import NUM_CLASSES
from model.reading.transform import DigitTransform


@dataclass(frozen=True)
class FitConfig:
    epochs: int = 6
    batch_size: int = 128
    max_lr: float = 3e-3
    weight_decay: float = 1e-4
    seed: int = 0
    freeze_norm: bool = False
    """Keep batch-norm statistics as they are: fine-tuning batches are too peculiar to re-estimate them."""
    samples_per_epoch: int | None = None
    """Draw this many samples (by ``weights``) per epoch instead of all: easy data need not be seen every epoch."""


def to_batch(pixels: NDArray[np.uint8]) -> torch.Tensor:
    """uint8 crops (N, 28, 28) to float ink in [0, 1], shape (N, 1, 28, 28)."""
    return torch.from_numpy(pixels).float().div_(255.0).unsqueeze(1)


def jitter(batch: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Small random affine moves (rotate, scale, shear, shift) after the transform.

    They stand for what the transform cannot undo exactly in a real photo: slant,
    handwriting size inside the box, a centre of mass a pixel off.
    """
    n = batch.shape[0]
    angle = (torch.rand(n, generator=generator) - 0.5) * math.radians(20)
    scale = 0.9 + 0.2 * torch.rand(n, generator=generator)
    shear = (torch.rand(n, generator=generator) - 0.5) * 0.3
    shift = (torch.rand(n, 2, generator=generator) - 0.5) * (4 / 28)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin + shear, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(batch.shape), align_corners=False)
    return F.grid_sample(batch, grid, align_corners=False, padding_mode="zeros")


def fit(
    model: nn.Module, data: Digits, transform: DigitTransform, config: FitConfig, weights: NDArray[np.float32] | None = None
) -> list[float]:
    """Train in place; returns the mean loss of each epoch. ``weights`` oversample samples.

    Runs channels-last, a quarter faster on CPU here; the weights come back in the usual layout.
    """
    torch.manual_seed(config.seed)
    generator = torch.Generator().manual_seed(config.seed)
    pixels = to_batch(data.pixels)
    labels = torch.from_numpy(data.labels)
    drawn = config.samples_per_epoch or len(labels)
    steps = max(1, math.ceil(drawn / config.batch_size))
    model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.max_lr, weight_decay=config.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=config.max_lr, total_steps=steps * config.epochs)
    sampling = torch.from_numpy(weights).double() if weights is not None else None
    losses: list[float] = []
    for epoch in range(config.epochs):
        _train_mode(model, config.freeze_norm)
        order = _order(len(labels), drawn, sampling, generator)
        total = 0.0
        bar = tqdm(range(steps), desc=f"epoch {epoch + 1}/{config.epochs}", unit="batch", leave=False)
        for step in bar:
            index = order[step * config.batch_size : (step + 1) * config.batch_size]
            inputs = torch.from_numpy(transform.normalize(jitter(pixels[index], generator).numpy()))
            inputs = inputs.contiguous(memory_format=torch.channels_last)
            loss = F.cross_entropy(model(inputs), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
            bar.set_postfix(loss=f"{total / (step + 1):.4f}")
        losses.append(total / steps)
        tqdm.write(f"epoch {epoch + 1}: loss {losses[-1]:.4f}")
    model.to(memory_format=torch.contiguous_format)
    return losses


def _train_mode(model: nn.Module, freeze_norm: bool) -> None:
    """Training mode; with ``freeze_norm`` (fine-tuning on few samples) the batch norms keep the statistics they have."""
    model.train()
    if freeze_norm:
        for module in model.modules():
            if isinstance(module, nn.BatchNorm2d):
                module.eval()


def _order(count: int, drawn: int, sampling: torch.Tensor | None, generator: torch.Generator) -> torch.Tensor:
    """An epoch's samples: ``drawn`` of ``count`` without repeats, or with repeats by the ``sampling`` weights."""
    if sampling is None:
        return torch.randperm(count, generator=generator)[:drawn]
    return torch.multinomial(sampling, drawn, replacement=True, generator=generator)


@torch.no_grad()
def logits_of(model: nn.Module, pixels: NDArray[np.uint8], transform: DigitTransform, batch_size: int = 1024) -> torch.Tensor:
    model.eval()
    batch = to_batch(pixels)
    parts = [model(torch.from_numpy(transform.normalize(batch[i : i + batch_size].numpy()))) for i in range(0, len(batch), batch_size)]
    return torch.cat(parts) if parts else torch.empty((0, NUM_CLASSES))


def view_probabilities(logits: torch.Tensor, temperature: float, views: int = 1) -> torch.Tensor:
    """Softmax at ``temperature``, averaged over each sample's ``views`` consecutive rows (the
    predictor's mean over a digit's grey and solid views)."""
    probs = F.softmax(logits / temperature, dim=1)
    return probs.reshape(-1, views, probs.shape[1]).mean(1)


def fit_temperature(logits: torch.Tensor, labels: torch.Tensor, views: int = 1) -> float:
    """Temperature scaling (Guo et al. 2017): one scalar that makes the confidence honest, fitted on
    the probabilities as they are answered (averaged over ``views`` consecutive rows of one sample)."""
    log_t = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=0.1, max_iter=100)
    truth = labels[::views]

    def closure() -> torch.Tensor:
        optimizer.zero_grad()
        probs = F.softmax(logits / log_t.exp(), dim=1).reshape(-1, views, logits.shape[1]).mean(1)
        loss = F.nll_loss(torch.log(probs.clamp_min(1e-12)), truth)
        loss.backward()
        return loss

    optimizer.step(closure)
    return float(log_t.detach().exp())


def reproducible(seed: int, threads: int) -> None:
    """The same data, seed and thread count give the same weights: torch's deterministic kernels, a
    fixed number of threads (a sum split differently rounds differently), the global seed set."""
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(threads)
    torch.manual_seed(seed)


class Stopwatch:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def seconds(self) -> float:
        return round(time.perf_counter() - self.start, 1)


def temperature_for(network: nn.Module, validation: Digits, transform: DigitTransform) -> float:
    """The temperature for validation digits given as the transform gives them: both views of each, consecutive."""
    return fit_temperature(logits_of(network, validation.pixels, transform), torch.from_numpy(validation.labels), views=2)
