"""Whole training steps, float32, cross-entropy and Adam: zero_grad, forward, loss, backward,
step, through each library's API. Batch 64: an MNIST-sized MLP (784-256-10, ReLU) and LeNet-5
(as examples/cnn_mnist.py: two 5x5 convolutions with ReLU and 2x2 max pooling, 400-120-84-10).
Batch 8 x 100 characters: the music lab's model (examples/music_lstm.py: Embedding(83, 256) ->
LSTM(1024) -> Linear(83)).

Rated in GFLOP/s over the products (forward and both backward products of each layer).
"""
from __future__ import annotations

import numpy as np

from . import Case

BATCH, SIZES = 64, (784, 256, 10)


def _inputs(x_shape):
    """Images in [0, 1) and one class in 0..9 per image."""
    def make(seed):
        rng = np.random.default_rng(seed)
        return (rng.random(x_shape, dtype=np.float32),
                rng.integers(0, 10, x_shape[0]).astype(np.int64))
    return make


# The music lab's character model: batch, sequence length, vocabulary, embedding, hidden.
MB, MT, MV, ME, MH = 8, 100, 83, 256, 1024


def _chars(seed):
    """Character windows (MB, MT) and their next characters, flattened (MB * MT,)."""
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, MV, (MB, MT + 1)).astype(np.int64)
    return seq[:, :-1].copy(), seq[:, 1:].reshape(-1).copy()


def _music(nn):
    class CharLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.embedding = nn.Embedding(MV, ME)
            self.lstm = nn.LSTM(ME, MH, batch_first=True)
            self.linear = nn.Linear(MH, MV)

        def forward(self, x):
            out, _ = self.lstm(self.embedding(x))
            return self.linear(out).reshape(MB * MT, MV)
    return CharLSTM()


def _mlp(nn):
    return nn.Sequential(nn.Linear(SIZES[0], SIZES[1]), nn.ReLU(),
                         nn.Linear(SIZES[1], SIZES[2]))


def _lenet(nn):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))


def _setup(lib_name, case, build, inputs):
    def setup():
        lib = __import__(lib_name)
        x0, y0 = inputs(case.seed())
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


def _case(name, flops, note, build, inputs):
    case = Case(name=name, setup={}, flops=flops, quick=True, note=note)
    case.setup = {lib: _setup(lib, case, build, inputs) for lib in ("turbonn", "torch")}
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
          _mlp, _inputs((BATCH, SIZES[0]))),
    _case("lenet_train_step_64x1x28x28", _lenet_flops(),
          "LeNet-5 training step on 28x28 images: forward, cross-entropy, backward, Adam",
          _lenet, _inputs((BATCH, 1, 28, 28))),
    _case(f"music_lstm_train_step_{MB}x{MT}_h{MH}",
          6.0 * MB * MT * (4 * MH * (ME + MH) + MV * MH),
          "the music lab's step: Embedding(83, 256), LSTM(1024), Linear(83), cross-entropy, Adam",
          _music, _chars),
]
