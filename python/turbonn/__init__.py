"""turbonn: hand-written C++ deep-learning kernels under a thin PyTorch-shaped Python layer.

This package holds the Python layer only; the kernels live in the private extension
``turbonn._core``. Public entry points: ``turbonn.ops`` (the native kernels on NumPy arrays),
the runtime controls below, ``Tensor`` with its tape autograd, ``nn`` and ``optim``.
"""
from __future__ import annotations

from . import _core, ops
from ._runtime import get_num_threads, set_num_threads, show_config
from .autograd import Function, enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .random import default_generator, get_rng_state, manual_seed, set_rng_state
from .tensor import Tensor, cat, from_numpy, matmul, stack, tensor

from . import nn, optim  # noqa: E402  (after Tensor: both build on it)
from .nn import functional  # noqa: E402  (tn.functional is tn.nn.functional)
from . import data, io, train  # noqa: E402  (batching, checkpoints, the fit loop)
from .io import load, save  # noqa: E402
from .train import (Callback, EarlyStopping, History, evaluate, fit,  # noqa: E402
                    plot_history)

__version__: str = _core.build_info()["version"]

__all__ = [
    "ops", "get_num_threads", "set_num_threads", "show_config", "__version__",
    "Tensor", "tensor", "from_numpy", "cat", "stack", "matmul",
    "Function", "no_grad", "enable_grad", "is_grad_enabled", "set_grad_enabled",
    "manual_seed", "default_generator", "nn", "functional", "optim",
    "data", "io", "train", "save", "load", "get_rng_state", "set_rng_state",
    "fit", "evaluate", "History", "Callback", "EarlyStopping", "plot_history",
]
