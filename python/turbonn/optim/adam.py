"""Adam and AdamW (amsgrad, weight decay, maximize): torch.optim.Adam / AdamW's rules.

m = lerp(m, g, 1 - beta1); v = beta2 v + (1 - beta2) g^2; p -= lr / (1 - beta1^t) * m /
(sqrt(v or max v) / sqrt(1 - beta2^t) + eps). Adam adds weight_decay * p to g; AdamW first
scales p by 1 - lr * weight_decay. One fused native pass per parameter.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from .optimizer import Optimizer, _check

__all__ = ["Adam", "AdamW"]


class Adam(Optimizer):
    _decoupled = False

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, *, maximize: bool = False):
        _check("learning rate", "lr", lr, lambda v: v >= 0.0)
        _check("epsilon value", "eps", eps, lambda v: v >= 0.0)
        try:
            beta1, beta2 = betas
        except (TypeError, ValueError):
            raise TypeError(f"betas must be a pair of floats, got {betas!r}") from None
        betas = (beta1, beta2)
        for i in (0, 1):
            _check(f"beta parameter at index {i}", f"betas[{i}]", betas[i],
                   lambda v: 0.0 <= v < 1.0, "in [0, 1)")
        _check("weight_decay value", "weight_decay", weight_decay, lambda v: v >= 0.0)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def _update(self, param, grad, state, group):
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(param)
            state["exp_avg_sq"] = np.zeros_like(param)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = np.zeros_like(param)
        state["step"] += 1
        beta1, beta2 = group["betas"]
        _core.adam_step(param, grad, state["exp_avg"], state["exp_avg_sq"],
                        state.get("max_exp_avg_sq"), group["lr"], beta1, beta2, group["eps"],
                        group["weight_decay"], state["step"], group["amsgrad"], group["maximize"],
                        self._decoupled)


class AdamW(Adam):
    _decoupled = True

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, *, maximize: bool = False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize)
