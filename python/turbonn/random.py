"""The global random state: one ``numpy.random.Generator`` behind ``turbonn.manual_seed``.

Every parameter init draws from ``default_generator()``, so the same seed gives bit-identical
parameters.
"""
from __future__ import annotations

import numbers

import numpy as np

__all__ = ["manual_seed", "default_generator", "seed", "initial_seed"]

_DEFAULT_SEED = 0x5EED
_state = {"seed": _DEFAULT_SEED, "gen": np.random.default_rng(_DEFAULT_SEED)}


def manual_seed(s: int) -> np.random.Generator:
    """Reseed the global generator with ``s`` (a non-negative int) and return it."""
    if not isinstance(s, numbers.Integral) or isinstance(s, bool):
        raise TypeError(f"manual_seed expected an int, got {type(s).__name__}")
    if s < 0:
        raise ValueError(f"manual_seed expected a non-negative seed, got {s}")
    _state["seed"] = int(s)
    _state["gen"] = np.random.default_rng(int(s))
    return _state["gen"]


def seed() -> int:
    """Reseed from OS entropy; returns the new seed."""
    s = int(np.random.SeedSequence().entropy % (2 ** 63))
    manual_seed(s)
    return s


def initial_seed() -> int:
    return _state["seed"]


def default_generator() -> np.random.Generator:
    """The generator every init in ``turbonn.nn`` draws from."""
    return _state["gen"]
