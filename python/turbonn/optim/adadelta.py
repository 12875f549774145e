"""Adadelta (weight decay, maximize): torch.optim.Adadelta's rule.

sq = rho sq + (1 - rho) g^2; delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
acc = rho acc + (1 - rho) delta^2; p -= lr * delta. One fused native pass per parameter.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from .optimizer import Optimizer, _check

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        _check("learning rate", "lr", lr, lambda v: v >= 0.0)
        _check("rho value", "rho", rho, lambda v: 0.0 <= v <= 1.0, "in [0, 1]")
        _check("epsilon value", "eps", eps, lambda v: v >= 0.0)
        _check("weight_decay value", "weight_decay", weight_decay, lambda v: v >= 0.0)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state.update(step=0, square_avg=np.zeros_like(param), acc_delta=np.zeros_like(param))
        state["step"] += 1
        _core.adadelta_step(param, grad, state["square_avg"], state["acc_delta"], group["lr"],
                            group["rho"], group["eps"], group["weight_decay"], group["maximize"])
