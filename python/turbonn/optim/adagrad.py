"""Adagrad (lr_decay, initial accumulator, weight decay, maximize): torch.optim.Adagrad's rule.

sum += g^2; p -= lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps). One fused native pass.
"""
from __future__ import annotations

import numpy as np

from .. import _core
from .optimizer import Optimizer, _check

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, *,
                 maximize: bool = False):
        _check("learning rate", "lr", lr, lambda v: v >= 0.0)
        _check("lr_decay value", "lr_decay", lr_decay, lambda v: v >= 0.0)
        _check("weight_decay value", "weight_decay", weight_decay, lambda v: v >= 0.0)
        _check("initial_accumulator_value value", "initial_accumulator_value",
               initial_accumulator_value, lambda v: v >= 0.0)
        _check("epsilon value", "eps", eps, lambda v: v >= 0.0)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      eps=eps, maximize=maximize))
        # torch creates the accumulator at construction, filled with the initial value
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = {"step": 0, "sum": np.full_like(
                    p.data, group["initial_accumulator_value"])}

    def _update(self, param, grad, state, group):
        if not state:
            state.update(step=0, sum=np.full_like(param, group["initial_accumulator_value"]))
        state["step"] += 1
        _core.adagrad_step(param, grad, state["sum"], group["lr"], group["lr_decay"],
                           group["weight_decay"], group["eps"], state["step"], group["maximize"])
