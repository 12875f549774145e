"""RMSprop (momentum, centered, weight decay, maximize): torch.optim.RMSprop's rule.

sq = alpha sq + (1 - alpha) g^2; avg = sqrt(sq - gavg^2 (centered) or sq) + eps;
p -= lr * g / avg, or through buf = momentum buf + g / avg. One fused native pass.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from .optimizer import Optimizer, _check

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum: float = 0.0, centered: bool = False, *,
                 maximize: bool = False):
        _check("learning rate", "lr", lr, lambda v: v >= 0.0)
        _check("epsilon value", "eps", eps, lambda v: v >= 0.0)
        _check("momentum value", "momentum", momentum, lambda v: v >= 0.0)
        _check("weight_decay value", "weight_decay", weight_decay, lambda v: v >= 0.0)
        _check("alpha value", "alpha", alpha, lambda v: v >= 0.0)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["square_avg"] = np.zeros_like(param)
            if group["momentum"] > 0:
                state["momentum_buffer"] = np.zeros_like(param)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(param)
        state["step"] += 1
        _core.rmsprop_step(param, grad, state["square_avg"], state.get("grad_avg"),
                           state.get("momentum_buffer"), group["lr"], group["alpha"], group["eps"],
                           group["weight_decay"], group["momentum"], group["centered"],
                           group["maximize"])
