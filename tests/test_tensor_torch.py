"""Parity with PyTorch: the same expressions in torch (float64) and turbonn (float32), comparing
the values and every input's gradient. Skipped when torch is not installed."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn

torch = pytest.importorskip("torch")


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def compare(expr, *arrays, rtol=1e-4, atol=1e-5):
    """expr(lib, *tensors) in both libraries; values and gradients must agree."""
    tt = [torch.tensor(a.astype(np.float64), requires_grad=True) for a in arrays]
    nn_ = [tn.tensor(a, requires_grad=True) for a in arrays]
    out_t, out_n = expr(torch, *tt), expr(tn, *nn_)
    assert out_n.shape == tuple(out_t.shape)
    np.testing.assert_allclose(out_n.detach().numpy(), out_t.detach().numpy(),
                               rtol=rtol, atol=atol)
    out_t.sum().backward()
    out_n.sum().backward()
    for k, (t, n) in enumerate(zip(tt, nn_)):
        assert n.grad is not None, f"input {k}: no gradient"
        np.testing.assert_allclose(n.grad.numpy(), t.grad.numpy(), rtol=rtol, atol=atol,
                                   err_msg=f"gradient of input {k}")


def test_two_layer_mlp_relu_by_mask():
    def mlp(lib, x, w1, b1, w2, b2):
        h = x @ w1.T + b1
        h = (h > 0) * h
        return ((h @ w2.T + b2) ** 2).mean()

    compare(mlp, rand((8, 5), 0), rand((16, 5), 1), rand((16,), 2), rand((3, 16), 3),
            rand((3,), 4))


def test_max_based_expression():
    def f(lib, x, w):
        y = x @ w
        m = y.max(dim=1, keepdim=True)[0]
        return (y - m).exp().sum(1).log() + m.squeeze(1) if lib is torch else \
            (y - m).exp().sum(1).log() + m.reshape(-1)

    compare(f, rand((6, 4), 5), rand((4, 7), 6))


@pytest.mark.parametrize("expr, shapes", [
    (lambda lib, a, b: a + b, [(3, 1), (1, 4)]),
    (lambda lib, a, b: a * b - b / 2, [(2, 3), (3,)]),
    (lambda lib, a, b: (a - b) ** 2, [(4, 1, 3), (2, 3)]),
    (lambda lib, a: 3.0 - 2.0 * a + 1 / (a * a + 1), [(5,)]),
    (lambda lib, a: -a ** 3, [(2, 2)]),
    (lambda lib, a: (a * a + 0.5).sqrt().log() + a.abs() + a.exp(), [(3, 3)]),
    (lambda lib, a, b: a ** b.abs(), [(2, 3), (2, 3)]),
    (lambda lib, a, b: a @ b, [(3, 4), (4, 2)]),
    (lambda lib, a, b: a @ b, [(4,), (4, 2)]),
    (lambda lib, a, b: a @ b, [(2, 3, 4), (4, 5)]),
    (lambda lib, a, b: a @ b, [(2, 3, 4), (2, 4, 5)]),
    (lambda lib, a, b: a @ b, [(4,), (4,)]),
    (lambda lib, a: a.reshape(6, -1).transpose(0, 1) * 2, [(2, 3, 4)]),
    (lambda lib, a: a.permute(2, 0, 1).view(4, 6) ** 2, [(2, 3, 4)]),
    (lambda lib, a: a.T @ a, [(3, 5)]),
    (lambda lib, a: a.sum(dim=(0, 2), keepdim=True) * a, [(2, 3, 4)]),
    (lambda lib, a: a.mean(1) ** 2, [(2, 3, 4)]),
    (lambda lib, a: a.max(), [(3, 4)]),
    (lambda lib, a: a.max(dim=-1).values * 2, [(3, 4)]),
    (lambda lib, a: a.min(dim=0)[0] * 2, [(3, 4)]),
    (lambda lib, a: a[1] + a[0:2].sum(0) + a[lib.tensor([2, 2, 0])].sum(0), [(3, 4)]),
    (lambda lib, a, b: lib.cat([a, b * 2], 1), [(2, 3), (2, 2)]),
    (lambda lib, a, b: lib.stack([a, b, a], 0), [(2, 3), (2, 3)]),
    (lambda lib, a: (a > 0.1) * a + (a <= 0.1) * 0.1 * a, [(4, 4)]),
])
def test_expression_parity(expr, shapes):
    compare(expr, *[rand(s, seed=10 + i) for i, s in enumerate(shapes)])


def test_max_ties_match_torch():
    data = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]], np.float32)
    compare(lambda lib, a: a.max(), data)
    compare(lambda lib, a: a.max(1).values, data)
    compare(lambda lib, a: a.min(), data)
    assert tn.tensor(data).max(1).indices.tolist() == torch.tensor(data).max(1).indices.tolist()


def test_tensor_used_twice_and_accumulation_match_torch():
    a = rand((3,), 20)
    ta = torch.tensor(a, requires_grad=True)
    na = tn.tensor(a, requires_grad=True)
    for lib, x in ((torch, ta), (tn, na)):
        (x * x + x).sum().backward()
        (x.exp() * x).sum().backward()
    np.testing.assert_allclose(na.grad.numpy(), ta.grad.numpy(), rtol=1e-5)


def test_repr_matches_torch():
    for data in ([1.0, 2.0, 3.0], [1.5, -2.0], [[59.0, 67.5], [105.5, -1.0]], [1e6, 1.5],
                 [1, 2], [1, -20], [True, False], [True], 3.0, 7):
        assert repr(tn.tensor(data)) == repr(torch.tensor(data))
    assert repr(tn.tensor([1.0, 2.0], requires_grad=True)) == \
        repr(torch.tensor([1.0, 2.0], requires_grad=True))
