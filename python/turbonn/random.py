"""The global random state: one ``numpy.random.Generator`` behind ``turbonn.manual_seed``.

Every parameter init draws from ``default_generator()``, so the same seed gives bit-identical
parameters.
"""
from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping

import numpy as np

__all__ = ["manual_seed", "default_generator", "seed", "initial_seed", "get_rng_state",
           "set_rng_state"]

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


def get_rng_state() -> dict:
    """A copy of the global generator's state (NumPy's ``bit_generator.state`` dict: plain ints
    and strings, so it goes into a checkpoint as is). Restore it with ``set_rng_state``."""
    return copy.deepcopy(default_generator().bit_generator.state)


def set_rng_state(state: Mapping) -> None:
    """Restore a state from ``get_rng_state``: later draws (inits, shuffles, dropout masks)
    continue exactly where the saved run left off."""
    gen = default_generator()
    if not isinstance(state, Mapping):
        raise TypeError(f"set_rng_state expected the dict from get_rng_state, got "
                        f"{type(state).__name__}")
    kind = type(gen.bit_generator).__name__
    if state.get("bit_generator") != kind:
        raise ValueError(f"set_rng_state: state is for bit generator "
                         f"{state.get('bit_generator')!r}, the global generator is {kind}")
    try:
        gen.bit_generator.state = copy.deepcopy(dict(state))
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(f"set_rng_state: invalid state ({e})") from None
