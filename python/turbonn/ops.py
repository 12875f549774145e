"""The native kernels on NumPy float32 arrays, with PyTorch-style names.

Each function validates its arguments in the binding (TypeError/ValueError naming the argument)
and runs with the GIL released. ``<op>_forward`` / ``<op>_backward`` pairs live beside it.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._ops_activation import (
    relu_backward, relu_forward, sigmoid_backward, sigmoid_forward, tanh_backward, tanh_forward,
)
from ._ops_linear import linear_backward, linear_forward
from ._ops_conv import col2im, conv2d_backward, conv2d_forward, im2col
from ._ops_pool import (
    avg_pool2d_backward, avg_pool2d_forward, max_pool2d_backward, max_pool2d_forward,
)
from ._ops_embedding import embedding_backward, embedding_forward
from ._ops_rnn import rnn_backward, rnn_forward
from ._ops_attention import attention_backward, attention_forward
from ._ops_layer_norm import layer_norm_backward, layer_norm_forward
from ._ops_loss import (
    binary_cross_entropy_backward, binary_cross_entropy_forward,
    binary_cross_entropy_with_logits_backward, binary_cross_entropy_with_logits_forward,
    cross_entropy_backward, cross_entropy_forward, dropout_backward, dropout_forward,
    log_softmax_backward, log_softmax_forward, mse_loss_backward, mse_loss_forward,
    nll_loss_backward, nll_loss_forward, softmax_backward, softmax_forward,
)

__all__ = [
    "gemm", "relu_forward", "relu_backward", "sigmoid_forward", "sigmoid_backward",
    "tanh_forward", "tanh_backward", "linear_forward", "linear_backward",
    "softmax_forward", "softmax_backward", "log_softmax_forward", "log_softmax_backward",
    "cross_entropy_forward", "cross_entropy_backward", "nll_loss_forward", "nll_loss_backward",
    "binary_cross_entropy_forward", "binary_cross_entropy_backward",
    "binary_cross_entropy_with_logits_forward", "binary_cross_entropy_with_logits_backward",
    "mse_loss_forward", "mse_loss_backward", "dropout_forward", "dropout_backward",
    "max_pool2d_forward", "max_pool2d_backward", "avg_pool2d_forward", "avg_pool2d_backward",
    "conv2d_forward", "conv2d_backward", "im2col", "col2im",
    "embedding_forward", "embedding_backward", "rnn_forward", "rnn_backward",
    "attention_forward", "attention_backward",
    "layer_norm_forward", "layer_norm_backward",
]


def gemm(
    a: np.ndarray,
    b: np.ndarray,
    *,
    trans_a: bool = False,
    trans_b: bool = False,
    alpha: float = 1.0,
    beta: float = 0.0,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``alpha * op(a) @ op(b) + beta * out`` in float32, ``op(x)`` being ``x.T`` when asked.

    ``a`` and ``b`` are 2-D float32 arrays, any strides (transposed and sliced views are read in
    place, never copied). The result is a new C-contiguous array, or is written into ``out``,
    which must then be a C-contiguous float32 array of the result's shape. ``out`` is not read
    when ``beta == 0`` (as in BLAS, NaN there does not propagate); ``beta != 0`` needs ``out``.
    A zero inner dimension gives ``beta * out``.
    """
    return _core.gemm(a, b, bool(trans_a), bool(trans_b), float(alpha), float(beta), out)
