"""Shared fixtures: MNIST test digits from the offline copy, the shipped model, photo builders."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import numpy as np
import pytest
import pytest_asyncio
import torch

from devkit.fake_telegram import FakeTelegram
from devkit.local import DATA_ROOT, MODELS
from devkit.photos import digit, jpeg, on_paper
from model.data.digits import load_mnist
from model.reading.predictor import Predictor

torch.set_num_threads(1)
"""Each of the suite's two workers on one torch thread, as the bot reads: two workers of two threads
each on two cores keep the number reader's recurrent layer waiting (10x slower, measured)."""


@pytest.fixture(scope="session")
def mnist_test() -> tuple[np.ndarray, np.ndarray]:
    if not (DATA_ROOT / "MNIST" / "raw").exists():
        pytest.skip(f"MNIST not found under {DATA_ROOT} (set DIGITBOT_MNIST)")
    return load_mnist(str(DATA_ROOT), train=False, download=False)


@pytest.fixture(scope="session")
def predictor() -> Predictor:
    return Predictor.load(MODELS)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    """The fake Bot API on a free loopback port, for one test."""
    server = FakeTelegram()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def photo_of(mnist_test: tuple[np.ndarray, np.ndarray]) -> Callable[..., bytes]:
    """JPEG bytes of MNIST test digits written on paper, left to right."""

    def make(*digits: int) -> bytes:
        return jpeg(on_paper([digit(mnist_test, d) for d in digits]))

    return make
