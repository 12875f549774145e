"""Reproducibility: the same seed and thread count give a bit-identical training run through
every source of randomness (init, DataLoader shuffling, dropout); a different seed does not.
Dropout masks and every kernel's result also do not depend on the thread count."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn


def _run(seed: int, threads: int) -> dict:
    tn.set_num_threads(threads)
    tn.manual_seed(seed)
    rng = np.random.default_rng(0)  # the data are fixed; only turbonn's seed varies
    x = rng.standard_normal((300, 20)).astype(np.float32)
    y = (x[:, :3].sum(1) > 0).astype(np.int64) + (x[:, 3] > 1).astype(np.int64)
    model = tn.nn.Sequential(tn.nn.Linear(20, 64), tn.nn.ReLU(), tn.nn.Dropout(0.3),
                             tn.nn.Linear(64, 64), tn.nn.Tanh(), tn.nn.Dropout(0.1),
                             tn.nn.Linear(64, 3))
    opt = tn.optim.AdamW(model.parameters(), lr=3e-3)
    tn.fit(model, tn.nn.CrossEntropyLoss(), opt, (x, y), epochs=3, batch_size=32,
           shuffle=True, verbose=0)
    return {k: np.array(v, copy=True) for k, v in model.state_dict().items()}


@pytest.mark.parametrize("threads", [1, 2])
def test_same_seed_and_threads_give_bit_identical_training(threads):
    a, b = _run(7, threads), _run(7, threads)
    assert a.keys() == b.keys()
    for k in a:
        assert np.array_equal(a[k], b[k]), k
    c = _run(8, threads)
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_training_does_not_depend_on_thread_count():
    # Our kernels split work without changing any sum's order (see README): the whole run is
    # the same bits with 1 and 2 threads.
    a, b = _run(3, 1), _run(3, 2)
    for k in a:
        assert np.array_equal(a[k], b[k]), k
