"""The ``Optimizer`` base class: parameter groups, per-parameter state, ``zero_grad``, and
``state_dict`` / ``load_state_dict`` in torch's layout. Subclasses implement ``_update`` with one
fused native kernel call per parameter (``turbonn._core.<name>_step``)."""
from __future__ import annotations

import copy
import numbers
from collections.abc import Mapping
from typing import Any, Callable, Iterable

import numpy as np

from ..tensor import Tensor

__all__ = ["Optimizer"]


def _check(name: str, arg: str, value, ok: Callable[[float], bool], expected: str = ">= 0") -> None:
    """torch's ``Invalid <name>: <value>`` ValueError, also naming the argument and its range. A
    non-number is a TypeError here, before a comparison fails with a message naming nothing."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (numbers.Real, Tensor)):
        raise TypeError(f"{arg} must be a float, got {type(value).__name__}")
    if not ok(float(value)):
        raise ValueError(f"Invalid {name}: {value} ({arg} must be {expected})")


def _index(i, where: str) -> int:
    """A parameter index of a saved state_dict: an int, or its digits (keys read back from a
    file may be strings)."""
    if isinstance(i, (int, np.integer)) and not isinstance(i, bool) and i >= 0:
        return int(i)
    if isinstance(i, str) and i.isdigit():
        return int(i)
    raise ValueError(f"state_dict {where}: parameter index must be a non-negative int, got {i!r}")


def _checked_option(key: str, value, current, group: int):
    """A saved hyperparameter, checked against the kind of the optimizer's current value (a
    number for a number, a bool for a bool, a pair of numbers for a pair) and, for lr, range."""
    where = f"state_dict param_groups[{group}][{key!r}]"
    if isinstance(current, bool):
        ok = isinstance(value, (bool, np.bool_))
    elif isinstance(current, numbers.Real):
        ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    elif isinstance(current, (tuple, list)):
        ok = (isinstance(value, (tuple, list)) and len(value) == len(current)
              and all(isinstance(x, numbers.Real) and not isinstance(x, bool) for x in value))
        value = tuple(value) if ok and isinstance(current, tuple) else value
    else:  # an option this optimizer does not have (a scheduler's initial_lr, ...): kept as is
        return copy.deepcopy(value)
    if not ok:
        raise ValueError(f"{where} is {value!r}; the optimizer's value is {current!r}")
    if key == "lr" and not value >= 0.0:
        raise ValueError(f"{where}: invalid learning rate {value!r}")
    return value


class Optimizer:
    def __init__(self, params: Iterable, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict] = []
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of "
                            "Tensors or dicts, but got a Tensor")
        params = list(params)
        if not params:
            raise ValueError("optimizer got an empty parameter list (params must hold at least "
                             "one Tensor)")
        if not isinstance(params[0], dict):
            params = [{"params": params}]
        for group in params:
            self.add_param_group(group)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        ps = group["params"]
        ps = [ps] if isinstance(ps, Tensor) else list(ps)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in ps:
            if not isinstance(p, Tensor):
                raise TypeError(f"optimizer can only optimize Tensors, but one of the params is "
                                f"{type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"can't optimize a non-leaf Tensor (one of the params has "
                                 f"grad_fn={p.grad_fn.name()})")
            if p.dtype != np.float32 or not p.data.flags.c_contiguous:
                raise ValueError("optimizer parameters must be C-contiguous float32 tensors, got "
                                 f"{p.dtype} of shape {p.shape}")
            if id(p) in seen:
                raise ValueError("some parameters appear in more than one parameter group")
            seen.add(id(p))
        group["params"] = ps
        for key, value in self.defaults.items():
            group.setdefault(key, value)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.data[...] = 0

    def step(self, closure: Callable[[], Any] | None = None):
        loss = None
        if closure is not None:
            from ..autograd import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = np.ascontiguousarray(p.grad.data, dtype=np.float32)
                self._update(p.data, grad, self.state.setdefault(p, {}), group)
        return loss

    def _update(self, param: np.ndarray, grad: np.ndarray, state: dict, group: dict) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------- checkpoints
    def _indexed(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self) -> dict:
        """``{"state": {index: {...}}, "param_groups": [{..., "params": [index, ...]}]}``."""
        index = {id(p): i for i, p in enumerate(self._indexed())}
        state = {index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v)
                                for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        groups = [{**{k: v for k, v in g.items() if k != "params"},
                   "params": [index[id(p)] for p in g["params"]]} for g in self.param_groups]
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Loads a ``state_dict()`` of an optimizer over the same parameters. Everything is
        checked and converted first, then swapped in at once: a bad dict raises (TypeError /
        ValueError naming the offending entry) and leaves the optimizer untouched."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"optimizer state_dict must be a dict, got {type(state_dict).__name__}")
        groups, saved_state = state_dict.get("param_groups"), state_dict.get("state")
        if not isinstance(groups, (list, tuple)) or not isinstance(saved_state, Mapping):
            raise ValueError("optimizer state_dict needs 'state' (a dict) and 'param_groups' "
                             "(a list)")
        if len(groups) != len(self.param_groups):
            raise ValueError(f"loaded state dict has {len(groups)} parameter groups, the "
                             f"optimizer has {len(self.param_groups)}")
        params: dict[int, Tensor] = {}
        new_groups = []
        for gi, (saved, mine) in enumerate(zip(groups, self.param_groups)):
            if not isinstance(saved, Mapping) or not isinstance(saved.get("params"), (list, tuple)):
                raise ValueError(f"param_groups[{gi}] of the state_dict must be a dict with a "
                                 f"'params' list")
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"param_groups[{gi}] of the state_dict has "
                                 f"{len(saved['params'])} parameters, the optimizer's group has "
                                 f"{len(mine['params'])}")
            for i, p in zip(saved["params"], mine["params"]):
                params[_index(i, f"param_groups[{gi}]['params']")] = p
            new_groups.append({k: _checked_option(k, v, mine.get(k), gi)
                               for k, v in saved.items() if k != "params"})
        new_state: dict[Tensor, dict] = {}
        for i, s in saved_state.items():
            i = _index(i, "state")
            if i not in params:
                raise ValueError(f"state_dict 'state' has an entry for parameter index {i}; the "
                                 f"optimizer's parameters are 0..{len(params) - 1}")
            if not isinstance(s, Mapping):
                raise ValueError(f"state_dict 'state' entry {i} must be a dict, got "
                                 f"{type(s).__name__}")
            p = params[i]
            entry = {}
            for k, v in s.items():
                if isinstance(v, (np.ndarray, Tensor)):
                    v = np.array(v.data if isinstance(v, Tensor) else v, dtype=np.float32)
                    if v.shape != p.shape:
                        raise ValueError(f"state '{k}' of parameter {i} has shape {v.shape}, "
                                         f"the parameter has {p.shape}")
                else:
                    v = copy.deepcopy(v)
                entry[k] = v
            new_state[p] = entry
        for mine, options in zip(self.param_groups, new_groups):  # nothing here can fail
            mine.update(options)
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines + [")"])
