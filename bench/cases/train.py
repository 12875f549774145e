"""Whole training steps, float32, batch 64, cross-entropy and Adam: zero_grad, forward, loss,
backward, step, through each library's API. An MNIST-sized MLP (784-256-10, ReLU) and LeNet-5
(as examples/cnn_mnist.py: two 5x5 convolutions with ReLU and 2x2 max pooling, 400-120-84-10).

Rated in GFLOP/s over the products (forward and both backward products of each layer).
"""
from __future__ import annotations

import numpy as np

from . import Case

BATCH, SIZES = 64, (784, 256, 10)


def _inputs(seed, x_shape):
    rng = np.random.default_rng(seed)
    return (rng.random(x_shape, dtype=np.float32),
            rng.integers(0, 10, x_shape[0]).astype(np.int64))


def _mlp(nn):
    return nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(),
                         nn.Linear(SIZES[1], SIZES[2]))


def _lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _setup(lib_name, case, build, x_shape):
    def setup():
        lib = __import__(lib_name)
        x0, y0 = _inputs(case.seed(), x_shape)
        model = build(lib.nn)
        # The same weights in both libraries: each parameter, in state_dict order, drawn from one
        # generator, uniform within torch's default bound 1/sqrt(fan_in).
        rng = np.random.default_rng(case.seed() + 1)
        state = {}
        for name, p in model.state_dict().items():
            shape = tuple(p.shape)
            fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else shape[0]
            state[name] = rng.uniform(-1, 1, shape).astype(np.float32) / np.sqrt(fan_in)
        if lib_name == "torch":
            model.load_state_dict({k: lib.from_numpy(v) for k, v in state.items()})
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


def _case(name, flops, note, build, x_shape):
    case = Case(name=name, setup={}, flops=flops, quick=True, note=note)
    case.setup = {lib: _setup(lib, case, build, x_shape) for lib in ("turbonn", "torch")}
    return case


def _lenet_flops():
    # (O, C*k*k, OH*OW) of each convolution and (out, in) of each Linear, times 6 * batch.
    convs = [(6, 25, 28 * 28), (16, 150, 10 * 10)]
    dense = [(120, 400), (84, 120), (10, 84)]
    return 6.0 * BATCH * (sum(o * k * l for o, k, l in convs) + sum(o * i for o, i in dense))


CASES = [
    _case("mlp_train_step_64x784x256x10",
          6.0 * BATCH * sum(i * o for i, o in zip(SIZES[:-1], SIZES[1:])),
          "MLP 784-256-10 training step: forward, cross-entropy, backward, Adam",
          _mlp, (BATCH, SIZES[0])),
    _case("lenet_train_step_64x1x28x28", _lenet_flops(),
          "LeNet-5 training step on 28x28 images: forward, cross-entropy, backward, Adam",
          _lenet, (BATCH, 1, 28, 28)),
]
