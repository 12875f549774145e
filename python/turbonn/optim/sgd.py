"""SGD with momentum, dampening, Nesterov, weight decay and maximize: torch.optim.SGD's rule.

g = grad (+ weight_decay * p); buf = g on the first step, else momentum * buf + (1 - dampening) * g;
g = g + momentum * buf (Nesterov) or buf; p -= lr * g. One fused native pass per parameter.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from .optimizer import Optimizer, _check

__all__ = ["SGD"]


class SGD(Optimizer):
    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, *, maximize: bool = False):
        _check("learning rate", "lr", lr, lambda v: v >= 0.0)
        _check("momentum value", "momentum", momentum, lambda v: v >= 0.0)
        _check("weight_decay value", "weight_decay", weight_decay, lambda v: v >= 0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        buf = None
        first = False
        if group["momentum"] != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.zeros_like(param)
                first = True
        _core.sgd_step(param, grad, buf, group["lr"], group["momentum"], group["dampening"],
                       group["weight_decay"], group["nesterov"], group["maximize"], first)
