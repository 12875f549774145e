"""Whole training steps, float32: an MNIST-sized MLP (784-256-10, ReLU) on a batch of 64 with
cross-entropy and Adam: zero_grad, forward, loss, backward, step, through each library's API.

Rated in GFLOP/s over the GEMMs (forward and both backward products of each Linear).
"""
from __future__ import annotations

import numpy as np

from . import Case

BATCH, SIZES = 64, (784, 256, 10)


def _inputs(seed):
    rng = np.random.default_rng(seed)
    x = rng.random((BATCH, SIZES[0]), dtype=np.float32)
    y = rng.integers(0, SIZES[-1], BATCH).astype(np.int64)
    ws = [(rng.standard_normal((o, i), dtype=np.float32) * (1 / np.sqrt(i)),
           np.zeros(o, np.float32)) for i, o in zip(SIZES[:-1], SIZES[1:])]
    return x, y, ws


def _setup(lib_name, case):
    def setup():
        lib = __import__(lib_name)
        x0, y0, ws = _inputs(case.seed())
        model = lib.nn.Sequential(lib.nn.Linear(SIZES[0], SIZES[1]), lib.nn.ReLU(),
                                  lib.nn.Linear(SIZES[1], SIZES[2]))
        state = {f"{2 * k}.{n}": v for k, (w, b) in enumerate(ws)
                 for n, v in (("weight", w), ("bias", b))}
        if lib_name == "torch":
            model.load_state_dict({k: lib.from_numpy(v.copy()) for k, v in state.items()})
            x, y = lib.from_numpy(x0), lib.from_numpy(y0)
        else:
            model.load_state_dict(state)
            x, y = lib.tensor(x0), lib.tensor(y0)
        opt = lib.optim.Adam(model.parameters(), lr=1e-3)
        loss_fn = lib.nn.CrossEntropyLoss()

        def run():
            opt.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            opt.step()
            return loss.detach().numpy()
        return run
    return setup


def train_step_case():
    flops = 6.0 * BATCH * sum(i * o for i, o in zip(SIZES[:-1], SIZES[1:]))
    case = Case(name="mlp_train_step_64x784x256x10", setup={}, flops=flops, quick=True,
                note="MLP 784-256-10 training step: forward, cross-entropy, backward, Adam")
    case.setup = {"turbonn": _setup("turbonn", case), "torch": _setup("torch", case)}
    return case


CASES = [train_step_case()]
