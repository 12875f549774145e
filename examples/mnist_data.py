"""What the MNIST examples share: the sample's default path, the CSV reader, and the random
shift augmentation (a vectorised gather plus the callback that refreshes it every epoch).
Not an example itself: examples/mlp_mnist.py and examples/cnn_mnist.py import it.
"""
from __future__ import annotations

import gzip
import sys
from pathlib import Path

import numpy as np

import turbonn as tn

DEFAULT_DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "mnist_5k.csv.gz"


def load_mnist(path: Path):
    """(images (N, 784) float32 in [0, 1], labels (N,) int64) from the 785-column CSV."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt") as f:
        raw = np.loadtxt(f, delimiter=",", dtype=np.float32)
    if raw.ndim != 2 or raw.shape[1] != 785:
        sys.exit(f"{path}: expected rows of 784 pixels and a label, got shape {raw.shape}")
    return raw[:, :784] / 255.0, raw[:, 784].astype(np.int64)


def random_shift(images: np.ndarray, max_shift: int, rng: np.random.Generator,
                 out: np.ndarray) -> None:
    """Write each 28x28 image (a row of 784 or a (1, 28, 28) block) moved by its own random
    (dy, dx) in [-max_shift, max_shift], zero-filled, into ``out``: one vectorised gather, no
    per-image loop."""
    n, k = len(images), max_shift
    padded = np.pad(images.reshape(n, 28, 28), ((0, 0), (k, k), (k, k)))
    rows = rng.integers(0, 2 * k + 1, (n, 1)) + np.arange(28)  # (n, 28) source rows
    cols = rng.integers(0, 2 * k + 1, (n, 1)) + np.arange(28)
    out.reshape(n, 28, 28)[...] = padded[np.arange(n)[:, None, None], rows[:, :, None],
                                         cols[:, None, :]]


class ShiftEachEpoch(tn.Callback):
    """Before every epoch, refill the training array (which the DataLoader shares, not copies:
    it is float32 already) with freshly shifted copies of the original images."""

    def __init__(self, original: np.ndarray, target: np.ndarray, max_shift: int, seed: int):
        self.original, self.target, self.max_shift = original, target, max_shift
        self.rng = np.random.default_rng(seed)

    def on_epoch_begin(self, epoch, logs=None):
        random_shift(self.original, self.max_shift, self.rng, out=self.target)
